using Orleans.Concurrency;

namespace AgentDesk.Contracts.Events;

/// <summary>
/// One organisation's event log (key <c>events:{organisation}</c>, <see cref="Common.GrainKeys.EventLog"/>). It gives every
/// event an id that increases in the order the log stores it, stores concurrent appends together (one multi-row insert
/// per flush) in the events table of the cluster's database, and serves readers from memory while they keep up.
/// Appending the same <see cref="EventDraft.SourceKey"/> again stores nothing: senders re-send until they hear back.
/// </summary>
[Alias("agentdesk.event-log")]
public interface IEventLogGrain : IGrainWithStringKey
{
    /// <summary>Stores the drafts (each once, by source key) and answers once they are durable.</summary>
    [Alias("append")]
    Task AppendAsync(IReadOnlyList<EventDraft> drafts);

    /// <summary>Up to <paramref name="max"/> events with an id above <paramref name="afterId"/>, oldest first.</summary>
    [AlwaysInterleave, Alias("read")]
    Task<EventPage> ReadAsync(long afterId, int max);

    /// <summary>
    /// Like <see cref="ReadAsync"/>, but when there is nothing after <paramref name="afterId"/> yet, waits up to
    /// <paramref name="wait"/> for the next stored event (a long poll: SSE streams follow the log with it). Cancelling
    /// <paramref name="cancellationToken"/> (the reader left) ends the wait at once.
    /// </summary>
    [AlwaysInterleave, Alias("wait")]
    Task<EventPage> WaitAsync(long afterId, int max, TimeSpan wait, CancellationToken cancellationToken = default);

    /// <summary>The id of the latest stored event (0 before the first): where "from now on" starts.</summary>
    [AlwaysInterleave, Alias("last-id")]
    Task<long> GetLastIdAsync();
}

/// <summary>
/// An event as the grain that caused it records it, before the log numbers it. <see cref="SourceKey"/> names the
/// occurrence (<c>exit:{historicalSwapId}</c>, <c>batch:{id}:completed</c> …) and is unique per organisation, so a
/// re-sent draft is recognised. <see cref="Data"/> is the type's JSON payload.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.event-draft")]
public sealed record EventDraft(
    [property: Id(0)] string Organization,
    [property: Id(1)] string SourceKey,
    [property: Id(2)] string Type,
    [property: Id(3)] Guid? AgentId,
    [property: Id(4)] string? Account,
    [property: Id(5)] string? Symbol,
    [property: Id(6)] DateTimeOffset At,
    [property: Id(7)] string Data);

/// <summary>A stored event: its draft and the id the organisation's log gave it.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.event-record")]
public sealed record EventRecord(
    [property: Id(0)] long Id,
    [property: Id(1)] string Organization,
    [property: Id(2)] string SourceKey,
    [property: Id(3)] string Type,
    [property: Id(4)] Guid? AgentId,
    [property: Id(5)] string? Account,
    [property: Id(6)] string? Symbol,
    [property: Id(7)] DateTimeOffset At,
    [property: Id(8)] string Data)
{
    public static EventRecord From(long id, EventDraft draft) =>
        new(id, draft.Organization, draft.SourceKey, draft.Type, draft.AgentId, draft.Account, draft.Symbol, draft.At, draft.Data);
}

/// <summary>
/// Events read from a log, oldest first, and <see cref="Through"/>: every id up to it has been looked at (ids can have
/// gaps where a re-sent draft was recognised), so the next read starts after it.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.event-page")]
public sealed record EventPage(
    [property: Id(0)] IReadOnlyList<EventRecord> Events,
    [property: Id(1)] long Through);
