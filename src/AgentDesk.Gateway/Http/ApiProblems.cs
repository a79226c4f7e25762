using AgentDesk.Domain.Common;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Http;

/// <summary>
/// RFC 7807 problem details from the error catalogue (<see cref="Errors"/>): the status follows from the code's kind,
/// the title from the catalogue, and the rejection's details (expected nonce, headroom …) become extensions.
/// </summary>
public static class ApiProblems
{
    public const string TypeBase = "https://agentdesk.dev/problems/";

    public static int StatusFor(ErrorKind kind) => kind switch
    {
        ErrorKind.Invalid => StatusCodes.Status400BadRequest,
        ErrorKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        ErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        ErrorKind.NotFound => StatusCodes.Status404NotFound,
        ErrorKind.MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        ErrorKind.Conflict => StatusCodes.Status409Conflict,
        ErrorKind.PayloadTooLarge => StatusCodes.Status413PayloadTooLarge,
        ErrorKind.UnsupportedMediaType => StatusCodes.Status415UnsupportedMediaType,
        ErrorKind.RateLimited => StatusCodes.Status429TooManyRequests,
        ErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static ProblemHttpResult For(Rejection rejection) => For(rejection.Code, rejection.Message, rejection.Details);

    public static ProblemHttpResult For(ErrorCode error, string message, IReadOnlyDictionary<string, string>? details = null)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = error.Code };
        if (details is not null)
            foreach (var (key, value) in details) extensions[key] = value;
        return TypedResults.Problem(detail: message, statusCode: StatusFor(error.Kind), title: error.Title, type: TypeBase + error.Code, extensions: extensions);
    }

    /// <summary>Writes a problem from middleware (authentication, rate limiting, the exception handler).</summary>
    public static Task WriteAsync(HttpContext context, ErrorCode error, string message, IReadOnlyDictionary<string, string>? details = null)
    {
        context.Response.StatusCode = StatusFor(error.Kind);
        return For(error, message, details).ExecuteAsync(context);
    }
}
