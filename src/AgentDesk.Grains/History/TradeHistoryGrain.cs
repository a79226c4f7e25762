using AgentDesk.Contracts.History;
using AgentDesk.Domain.History;
using Orleans.Concurrency;

namespace AgentDesk.Grains.History;

/// <summary>Answers history queries on whichever silo the caller reaches; it holds nothing and only reads the store.</summary>
[StatelessWorker]
public sealed class TradeHistoryGrain(IHistoryStore store) : Grain, ITradeHistoryGrain
{
    public Task<HistoryPage> QueryAsync(string organization, HistoryQuery query) => store.QueryAsync(organization, query);

    public Task<HistoricalSwap?> GetAsync(string organization, string historicalSwapId) => store.GetAsync(organization, historicalSwapId);

    public async Task<PerformanceReport> PerformanceAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until)
    {
        // Rows are added as they are read, never held together.
        var record = new PerformanceRecord();
        await foreach (var trade in store.ForAgentAsync(organization, agentId, since, until)) record.Add(trade);
        return record.Report();
    }

    public Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until) =>
        store.SubscribersAsync(organization, agentId, since, until);
}
