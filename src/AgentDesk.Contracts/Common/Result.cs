using AgentDesk.Domain.Common;

namespace AgentDesk.Contracts.Common;

/// <summary>The answer to a command: a value, or the rejection that stopped it (and changed nothing).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.result`1")]
public sealed record Result<T>([property: Id(0)] T? Value, [property: Id(1)] Rejection? Problem)
{
    public bool IsSuccess => Problem is null;

    public static Result<T> Ok(T value) => new(value, null);

    public static Result<T> Fail(Rejection rejection) => new(default, rejection);

    public static Result<T> Fail(Domain.Common.ErrorCode code, string message) => new(default, new Rejection(code, message));

    public static implicit operator Result<T>(Rejection rejection) => Fail(rejection);

    /// <summary>A domain outcome as a grain answer.</summary>
    public static Result<T> From(Outcome<T> outcome) => outcome.IsSuccess ? Ok(outcome.Value!) : Fail(outcome.Rejection!);
}
