using AgentDesk.Contracts.Accounts;
using AgentDesk.Domain.Common;

namespace AgentDesk.Contracts.Batches;

/// <summary>
/// One batch-open or batch-close (key: batchId). Fans out to every subscriber with bounded parallelism,
/// records each outcome durably as it goes, and resumes after a silo failure without opening twice.
/// </summary>
[Alias("agentdesk.batch")]
public interface IBatchGrain : IGrainWithGuidKey
{
    /// <summary>Runs a batch-open. The same request again returns the first result; a different one is a conflict.</summary>
    [Alias("open")]
    Task<Common.Result<BatchResult>> OpenAsync(BatchOpenRequest request);

    /// <summary>Closes every position and cancels every order the open batch <paramref name="request"/> names.</summary>
    [Alias("close")]
    Task<Common.Result<BatchResult>> CloseAsync(BatchCloseRequest request);

    /// <summary>
    /// The conflict when this request is not the one the batch stored (null when it is, or while it stores none), answered
    /// also while the batch runs: a retry with another body under the same Idempotency-Key is refused at once rather than
    /// told the first batch is its own.
    /// </summary>
    [Orleans.Concurrency.AlwaysInterleave, Alias("check-same-request")]
    Task<Rejection?> CheckSameRequestAsync(BatchOpenRequest? open, BatchCloseRequest? close);

    /// <summary>The batch as it stands, also while it runs (this call interleaves with the run).</summary>
    [Orleans.Concurrency.AlwaysInterleave, Alias("get")]
    Task<BatchResult?> GetAsync();

    /// <summary>Whose batch this is, on what, and whether it has completed, as stored: <see cref="GetAsync"/> without the outcomes.</summary>
    [Orleans.Concurrency.AlwaysInterleave, Alias("get-status")]
    Task<BatchStatusView?> GetStatusAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.batch-status-view")]
public sealed record BatchStatusView(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] string Symbol,
    [property: Id(2)] BatchStatus Status);

[GenerateSerializer, Immutable, Alias("agentdesk.batch-open-request")]
public sealed record BatchOpenRequest(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] string Symbol,
    [property: Id(2)] Side Side,
    [property: Id(3)] decimal Weight,
    [property: Id(4)] decimal Leverage,
    [property: Id(5)] decimal TriggerPrice,
    [property: Id(6)] decimal StopLossPrice,
    [property: Id(7)] decimal TakeProfitPrice,
    [property: Id(8)] decimal TrailingStopPercentage);

[GenerateSerializer, Immutable, Alias("agentdesk.batch-close-request")]
public sealed record BatchCloseRequest(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] Guid OpenBatchId);

public enum BatchKind
{
    Open,
    Close,
}

public enum BatchStatus
{
    Running,
    Completed,
}

[GenerateSerializer, Immutable, Alias("agentdesk.batch-result")]
public sealed record BatchResult(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] BatchKind Kind,
    [property: Id(2)] BatchStatus Status,
    [property: Id(3)] Guid AgentId,
    [property: Id(4)] string Symbol,
    [property: Id(5)] int Subscribers,
    [property: Id(6)] int Successful,
    [property: Id(7)] int Failed,
    [property: Id(8)] int Skipped,
    [property: Id(9)] IReadOnlyList<BatchStepOutcome> Results,
    [property: Id(10)] DateTimeOffset StartedAt,
    [property: Id(11)] DateTimeOffset? CompletedAt,
    [property: Id(12)] Guid? OpenBatchId,
    [property: Id(13)] string Organization)
{
    public int Done => Successful + Failed + Skipped;
}
