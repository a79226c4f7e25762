namespace AgentDesk.Contracts.Common;

/// <summary>Why a command was refused: a machine-readable code, a sentence, and facts such as headroom.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.problem")]
public sealed record Problem(
    [property: Id(0)] string Code,
    [property: Id(1)] string Message,
    [property: Id(2)] IReadOnlyDictionary<string, string>? Details = null);

/// <summary>The answer to a command: a value, or the problem that stopped it (and changed nothing).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.result`1")]
public sealed record Result<T>([property: Id(0)] T? Value, [property: Id(1)] Problem? Problem)
{
    public bool IsSuccess => Problem is null;

    public static Result<T> Ok(T value) => new(value, null);

    public static Result<T> Fail(Problem problem) => new(default, problem);

    public static Result<T> Fail(string code, string message) => new(default, new Problem(code, message));
}
