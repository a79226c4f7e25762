using AgentDesk.Contracts.Common;

namespace AgentDesk.Gateway.Infrastructure;

/// <summary>
/// RFC 7807 problem details with a machine-readable <c>code</c> (and any details of the rejection, such as
/// the expected nonce or the headroom left). The status follows from the code.
/// </summary>
public static class Problems
{
    private static readonly HashSet<string> NotFound =
    [
        "agent_not_found", "account_not_found", "vault_not_found", "batch_not_found", "position_not_found", "not_subscribed",
    ];

    private static readonly HashSet<string> Conflict =
    [
        "agent_already_registered", "idempotency_conflict", "position_already_open", "vault_exists", "nonce_mismatch",
    ];

    public static int StatusFor(string code) => code switch
    {
        _ when NotFound.Contains(code) => StatusCodes.Status404NotFound,
        _ when Conflict.Contains(code) => StatusCodes.Status409Conflict,
        "unauthenticated" => StatusCodes.Status401Unauthorized,
        "forbidden" => StatusCodes.Status403Forbidden,
        "rate_limited" => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status400BadRequest,
    };

    public static IResult From(Problem problem) => Result(problem.Code, problem.Message, problem.Details);

    public static IResult Result(string code, string message, IReadOnlyDictionary<string, string>? details = null)
    {
        var status = StatusFor(code);
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (details is not null)
            foreach (var (key, value) in details) extensions[key] = value;
        return Results.Problem(detail: message, statusCode: status, title: Title(code), type: $"https://agentdesk.dev/problems/{code}", extensions: extensions);
    }

    public static Task WriteAsync(HttpContext context, string code, string message)
    {
        context.Response.StatusCode = StatusFor(code);
        return Result(code, message).ExecuteAsync(context);
    }

    /// <summary>"nonce_mismatch" → "Nonce mismatch".</summary>
    private static string Title(string code) => code.Length == 0 ? code : char.ToUpperInvariant(code[0]) + code[1..].Replace('_', ' ');
}
