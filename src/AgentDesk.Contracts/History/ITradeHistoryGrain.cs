using AgentDesk.Domain.History;
using Orleans.Concurrency;

namespace AgentDesk.Contracts.History;

/// <summary>
/// Reads the history read model (closed trades) for the gateway: any silo answers, from the cluster's database. The
/// model itself is written by the organisations' event logs as they store exits and cancellations (docs/history.md).
/// </summary>
[Alias("agentdesk.trade-history")]
public interface ITradeHistoryGrain : IGrainWithIntegerKey
{
    [Alias("query")]
    Task<HistoryPage> QueryAsync(string organization, HistoryQuery query);

    [Alias("get")]
    Task<HistoricalSwap?> GetAsync(string organization, string historicalSwapId);

    [Alias("performance")]
    Task<PerformanceReport> PerformanceAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until);

    /// <summary>The agent's subscriber count at the end of each day it changed, in [since, until] (days).</summary>
    [Alias("subscribers")]
    Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until);
}
