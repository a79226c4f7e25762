using Orleans.Concurrency;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Grains.History;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentDesk.Grains.Events;

/// <summary>
/// An organisation's event log. Appends interleave (the grain is reentrant): they queue their drafts and wait while one
/// flush at a time numbers everything queued and stores it with one insert, so many concurrent senders share a write
/// (group commit). Ids follow the order of storing. The latest events stay in memory, so readers that keep up (SSE
/// streams, webhooks) are served without a database read; older pages come from the store.
/// </summary>
[Reentrant]
[GrainType("event-log")]
[RecoversFromFailures]
public sealed class EventLogGrain(IEventStore store, IHistoryStore history, IOptions<EventOptions> options, TimeProvider clock, ILogger<EventLogGrain> logger)
    : Grain, IEventLogGrain
{
    /// <summary>
    /// Events kept in memory for readers that keep up (a few MB per active organisation; an idle log is deactivated and
    /// frees it). A reader further behind, such as one resuming after a 10,000-subscriber batch, reads pages from the store.
    /// </summary>
    public const int RecentCapacity = 4_096;

    /// <summary>A page never holds more than this many events.</summary>
    public const int MaxPage = 1_000;

    private readonly List<EventRecord> _recent = [];
    private List<EventDraft> _queue = [];
    private TaskCompletionSource _flushed = NewSignal();
    private TaskCompletionSource _arrived = NewSignal();
    private bool _flushing;
    private bool _reload;

    /// <summary>
    /// The highest id stored, which is also where numbering goes on. An id given to a draft the store recognised as a
    /// re-send is left as a gap only below a stored one: were the highest ids of a flush re-sends, readers would be told
    /// they had read through them, and a log reloaded from the store (which numbers on from its highest row) would give
    /// them out again to new events, which those readers would then skip.
    /// </summary>
    private long _lastStoredId;

    /// <summary>Every stored event with an id above this is in <see cref="_recent"/>.</summary>
    private long _recentFloor;

    private string Organization => GrainKeys.After(this.GetPrimaryKeyString(), "events:");

    public override async Task OnActivateAsync(CancellationToken cancellationToken) => await ReloadAsync();

    public async Task AppendAsync(IReadOnlyList<EventDraft> drafts)
    {
        // A draft older than the retention window (re-sent by a grain that slept that long) would enter the log as new
        // after its first copy was pruned: it is dropped instead. A trade it reports still goes into the history, which
        // keeps trades for good and stores each once: its first copy may never have got there (history writes failing for
        // longer than the window).
        var cutoff = clock.GetUtcNow() - options.Value.Retention;
        var fresh = new List<EventDraft>(drafts.Count);
        List<EventDraft>? stale = null;
        foreach (var draft in drafts.Where(d => d.Organization == Organization))
            if (draft.At >= cutoff) fresh.Add(draft);
            else (stale ??= []).Add(draft);
        if (stale is not null && TradeProjection.From(stale.Select(d => EventRecord.From(0, d))) is { Count: > 0 } trades) await history.AppendAsync(trades);
        if (fresh.Count == 0) return;
        _queue.AddRange(fresh);
        var flushed = _flushed.Task;
        if (!_flushing) _ = FlushAsync();
        await flushed;
    }

    public async Task<EventPage> ReadAsync(long afterId, int max)
    {
        max = Math.Clamp(max, 1, MaxPage);
        if (afterId >= _recentFloor) return FromRecent(afterId, max);
        // Everything up to the last id stored before the read is in the store, so a page shorter than asked covers up to
        // there, gaps included, and up to its own last event, which a flush running meanwhile may have stored after it:
        // a reader that moves on to the page's end never reads an event twice.
        var through = _lastStoredId;
        var events = await store.ReadAsync(Organization, afterId, max);
        if (events.Count == max) return new EventPage(events, events[^1].Id);
        return new EventPage(events, Math.Max(Math.Max(through, afterId), events.Count > 0 ? events[^1].Id : 0));
    }

    public async Task<EventPage> WaitAsync(long afterId, int max, TimeSpan wait, CancellationToken cancellationToken = default)
    {
        if (_lastStoredId <= afterId)
        {
            // A reader that left cancels the wait, so a stopping silo is not held until the wait would have ended.
            var arrived = _arrived.Task;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var delay = Task.Delay(wait, timeout.Token);
            if (await Task.WhenAny(arrived, delay) == arrived) await timeout.CancelAsync();
        }
        return await ReadAsync(afterId, max);
    }

    public Task<long> GetLastIdAsync() => Task.FromResult(_lastStoredId);

    /// <summary>Stores what is queued, one flush at a time; appends that arrive during a flush go into the next one.</summary>
    private async Task FlushAsync()
    {
        _flushing = true;
        try
        {
            while (_queue.Count > 0)
            {
                var batch = _queue;
                _queue = [];
                var flushed = _flushed;
                _flushed = NewSignal();
                try
                {
                    if (_reload) await ReloadAsync();
                    await StoreAsync(batch);
                    flushed.SetResult();
                }
                catch (Exception e)
                {
                    // The senders keep their drafts and send them again. An id conflict means another activation of this log
                    // wrote meanwhile (a brief duplicate during a silo failure): numbering restarts from what the store holds.
                    logger.LogWarning(e, "Event log {Organization}: storing {Count} events failed", Organization, batch.Count);
                    _reload = true;
                    flushed.SetException(e);
                }
            }
        }
        finally
        {
            _flushing = false;
        }
    }

    private async Task StoreAsync(List<EventDraft> batch)
    {
        var records = new List<EventRecord>(batch.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var next = _lastStoredId;
        foreach (var draft in batch)
        {
            // Times are kept in UTC to the microsecond, as PostgreSQL keeps them: an event reads the same from memory and from the table.
            if (seen.Add(draft.SourceKey)) records.Add(EventRecord.From(++next, draft with { At = new DateTimeOffset(draft.At.UtcTicks - draft.At.UtcTicks % 10, TimeSpan.Zero) }));
        }
        var stored = await store.AppendAsync(Organization, records);
        // The history read model, from every exit and cancellation in the flush, stored or recognised as a re-send: a
        // flush that failed between the two writes is sent again by its senders, and this write then fills the gap.
        var trades = TradeProjection.From(records);
        if (trades.Count > 0) await history.AppendAsync(trades);
        if (stored.Count == 0) return;
        _lastStoredId = stored[^1].Id;
        _recent.AddRange(stored);
        if (_recent.Count > RecentCapacity)
        {
            var drop = _recent.Count - RecentCapacity;
            _recentFloor = _recent[drop - 1].Id;
            _recent.RemoveRange(0, drop);
        }
        var arrived = _arrived;
        _arrived = NewSignal();
        arrived.SetResult();
    }

    private async Task ReloadAsync()
    {
        _lastStoredId = _recentFloor = await store.LastIdAsync(Organization);
        _recent.Clear();
        _reload = false;
    }

    private EventPage FromRecent(long afterId, int max)
    {
        // Ids in memory increase: find the first above afterId by binary search.
        int lo = 0, hi = _recent.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (_recent[mid].Id <= afterId) lo = mid + 1;
            else hi = mid;
        }
        var count = Math.Min(max, _recent.Count - lo);
        var events = _recent.GetRange(lo, count);
        return new EventPage(events, count == max ? events[^1].Id : Math.Max(_lastStoredId, afterId));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
