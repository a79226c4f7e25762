using AgentDesk.Domain.History;

namespace AgentDesk.Grains.History;

/// <summary>
/// The history read model: closed trades in an append-only table of the cluster's database (SQLite single node,
/// PostgreSQL cluster) or in memory (the in-process test cluster). Rows are unique per organisation by id: appending a
/// trade again stores nothing, so the writer may repeat itself after any failure.
/// </summary>
public interface IHistoryStore
{
    /// <summary>Stores the trades (each once, by organisation and id) in one transaction.</summary>
    Task AppendAsync(IReadOnlyList<HistoricalSwap> trades);

    /// <summary>A page of the organisation's trades matching the query, newest first.</summary>
    Task<HistoryPage> QueryAsync(string organization, HistoryQuery query);

    Task<HistoricalSwap?> GetAsync(string organization, string id);

    /// <summary>
    /// Every trade of the agent closed in [since, until), in close order (time, then id in ordinal order), read as it is
    /// consumed: a year of a large agent is tens of millions of rows.
    /// </summary>
    IAsyncEnumerable<HistoricalSwap> ForAgentAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until);

    /// <summary>Records the agent's subscriber count for a day (a later record of the same day replaces it).</summary>
    Task RecordSubscribersAsync(string organization, Guid agentId, DateOnly day, int subscribers);

    /// <summary>The agent's recorded daily counts in [since, until] (days), oldest first.</summary>
    Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until);
}

/// <summary>Trades in this process's memory, for <c>Memory</c> mode (one silo); same contract as the database stores.</summary>
public sealed class MemoryHistoryStore : IHistoryStore
{
    private readonly Dictionary<(string Organization, string Id), HistoricalSwap> _trades = [];
    private readonly Dictionary<(string Organization, Guid Agent, DateOnly Day), int> _subscribers = [];

    public Task RecordSubscribersAsync(string organization, Guid agentId, DateOnly day, int subscribers)
    {
        lock (_subscribers) _subscribers[(organization, agentId, day)] = subscribers;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until)
    {
        lock (_subscribers)
        {
            return Task.FromResult<IReadOnlyList<DailySubscribers>>(_subscribers
                .Where(e => e.Key.Organization == organization && e.Key.Agent == agentId && (since is null || e.Key.Day >= since) && (until is null || e.Key.Day <= until))
                .OrderBy(e => e.Key.Day).Select(e => new DailySubscribers(e.Key.Day, e.Value)).ToList());
        }
    }

    public Task AppendAsync(IReadOnlyList<HistoricalSwap> trades)
    {
        lock (_trades)
        {
            foreach (var trade in trades) _trades.TryAdd((trade.Organization, trade.Id), trade);
        }
        return Task.CompletedTask;
    }

    public Task<HistoryPage> QueryAsync(string organization, HistoryQuery query)
    {
        List<HistoricalSwap> matching;
        lock (_trades)
        {
            matching = _trades.Values.Where(t => t.Organization == organization && query.Matches(t))
                .OrderByDescending(t => t.ClosedAt).ThenByDescending(t => t.Id, StringComparer.Ordinal).Take(query.Limit + 1).ToList();
        }
        return Task.FromResult(HistoryPages.From(matching, query.Limit));
    }

    public Task<HistoricalSwap?> GetAsync(string organization, string id)
    {
        lock (_trades) return Task.FromResult(_trades.GetValueOrDefault((organization, id)));
    }

    public IAsyncEnumerable<HistoricalSwap> ForAgentAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until)
    {
        var query = new HistoryQuery(AgentId: agentId, From: since, To: until);
        lock (_trades)
        {
            return _trades.Values.Where(t => t.Organization == organization && query.Matches(t))
                .OrderBy(t => t.ClosedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList().ToAsyncEnumerable();
        }
    }
}

public static class HistoryPages
{
    /// <summary>A page from up to limit + 1 rows, newest first: the extra row only says that there is a next page.</summary>
    public static HistoryPage From(IReadOnlyList<HistoricalSwap> rows, int limit)
    {
        if (rows.Count <= limit) return new HistoryPage(rows, null);
        var page = rows.Take(limit).ToList();
        return new HistoryPage(page, new HistoryCursor(page[^1].ClosedAt, page[^1].Id));
    }
}
