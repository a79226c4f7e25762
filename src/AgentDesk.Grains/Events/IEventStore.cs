using AgentDesk.Contracts.Events;

namespace AgentDesk.Grains.Events;

/// <summary>
/// Where event logs keep their events: a table in the cluster's database (SQLite single node, PostgreSQL cluster) or
/// memory (the in-process test cluster). Rows are unique per organisation by id and by source key.
/// </summary>
public interface IEventStore
{
    /// <summary>The highest stored id of the organisation (0 when it has none).</summary>
    Task<long> LastIdAsync(string organization);

    /// <summary>
    /// Stores the events in one statement (one transaction) and returns those stored; an event whose source key the
    /// organisation already has is left out. An id already taken is an error (another writer got there first).
    /// </summary>
    Task<IReadOnlyList<EventRecord>> AppendAsync(string organization, IReadOnlyList<EventRecord> events);

    /// <summary>Up to <paramref name="max"/> events with an id above <paramref name="afterId"/>, oldest first.</summary>
    Task<IReadOnlyList<EventRecord>> ReadAsync(string organization, long afterId, int max);

    /// <summary>
    /// Deletes events (of every organisation) that happened before <paramref name="before"/>, except each organisation's
    /// newest, which keeps its numbering going; returns how many.
    /// </summary>
    Task<int> PruneAsync(DateTimeOffset before);
}

/// <summary>Events in this process's memory, for <c>Memory</c> mode (one silo); same contract as the database stores.</summary>
public sealed class MemoryEventStore : IEventStore
{
    private readonly Dictionary<string, Log> _logs = [];

    private sealed class Log
    {
        public SortedList<long, EventRecord> ById = [];
        public readonly HashSet<string> SourceKeys = new(StringComparer.Ordinal);
    }

    public Task<long> LastIdAsync(string organization)
    {
        lock (_logs) return Task.FromResult(_logs.TryGetValue(organization, out var log) && log.ById.Count > 0 ? log.ById.Keys[^1] : 0L);
    }

    public Task<IReadOnlyList<EventRecord>> AppendAsync(string organization, IReadOnlyList<EventRecord> events)
    {
        lock (_logs)
        {
            if (!_logs.TryGetValue(organization, out var log)) _logs[organization] = log = new Log();
            if (events.FirstOrDefault(e => log.ById.ContainsKey(e.Id)) is { } taken)
                throw new InvalidOperationException($"Event id {taken.Id} of {organization} is already stored.");
            var stored = new List<EventRecord>();
            foreach (var e in events)
            {
                if (!log.SourceKeys.Add(e.SourceKey)) continue;
                log.ById.Add(e.Id, e);
                stored.Add(e);
            }
            return Task.FromResult<IReadOnlyList<EventRecord>>(stored);
        }
    }

    public Task<IReadOnlyList<EventRecord>> ReadAsync(string organization, long afterId, int max)
    {
        lock (_logs)
        {
            if (!_logs.TryGetValue(organization, out var log)) return Task.FromResult<IReadOnlyList<EventRecord>>([]);
            var keys = log.ById.Keys;
            // Binary search for the first id above afterId.
            int lo = 0, hi = keys.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (keys[mid] <= afterId) lo = mid + 1;
                else hi = mid;
            }
            var page = new List<EventRecord>();
            for (var i = lo; i < keys.Count && page.Count < max; i++) page.Add(log.ById.Values[i]);
            return Task.FromResult<IReadOnlyList<EventRecord>>(page);
        }
    }

    public Task<int> PruneAsync(DateTimeOffset before)
    {
        lock (_logs)
        {
            var pruned = 0;
            foreach (var log in _logs.Values)
            {
                // As in the database, a pruned row's source key goes with it: a draft re-sent after its retention is refused
                // by the log (too old to store), not by the store.
                // The newest event stays whatever its age: the log numbers on from the highest stored id.
                var newest = log.ById.Count > 0 ? log.ById.Keys[^1] : 0;
                // The first event to go starts a new list holding the ones before it, and every later survivor is added at its
                // end. Removing the pruned one at a time shifted every later event each time: an hourly prune of a busy week
                // held this lock (every organisation's appends and reads wait for it) for seconds. The new list keeps the old
                // one's capacity, so the next append does not have to grow it.
                SortedList<long, EventRecord>? survivors = null;
                var position = 0;
                foreach (var e in log.ById.Values)
                {
                    if (e.At < before && e.Id != newest)
                    {
                        if (survivors is null)
                        {
                            survivors = new SortedList<long, EventRecord>(log.ById.Capacity);
                            for (var i = 0; i < position; i++) survivors.Add(log.ById.Keys[i], log.ById.Values[i]);
                        }
                        log.SourceKeys.Remove(e.SourceKey);
                        pruned++;
                    }
                    else
                    {
                        survivors?.Add(e.Id, e);
                    }
                    position++;
                }
                if (survivors is not null) log.ById = survivors;
            }
            return Task.FromResult(pruned);
        }
    }
}
