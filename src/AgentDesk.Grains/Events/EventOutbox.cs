using AgentDesk.Contracts.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;

namespace AgentDesk.Grains.Events;

/// <summary>
/// The events a grain caused and its organisation's log has not confirmed yet (docs/architecture.md, "Outboxes"). They
/// live in the grain's own state: <see cref="Add"/> before the write that makes the change, <see cref="Publish"/> after it,
/// so an event is stored by the same write as its cause and costs no write of its own. Drafts the log confirms leave the
/// list in memory at once and leave storage with the next write; a grain that dies first re-sends them when it activates
/// again, and the log recognises them by source key. A failed send is retried by a timer, then a reminder. Sending never
/// blocks the grain: the publisher answers when the log has stored the drafts.
/// </summary>
/// <remarks>
/// Confirmed drafts leave by replacing the state's list, never by changing it: a storage provider may still be
/// serialising the old list on another thread (the ADO.NET provider serialises once its connection is open).
/// </remarks>
public sealed class EventOutbox(Grain owner, Func<List<EventDraft>> pending, Action<List<EventDraft>> replace, IEventPublisher publisher,
    EventOptions options, RetryOptions retries)
{
    public const string ReminderName = "events";

    private bool _sending;

    /// <summary>Drafts whose owner's write has been stored (by reference): only these are ever sent.</summary>
    private HashSet<EventDraft>? _stored;
    private bool _reminderRegistered;
    private IGrainTimer? _retry;

    public bool Enabled => options.Enabled;

    /// <summary>Records an event; call it before the write that stores the change the event reports.</summary>
    public void Add(EventDraft draft)
    {
        if (options.Enabled) pending().Add(draft);
    }

    /// <summary>
    /// Sends what the log has not confirmed; call it after the owner's write, and when the owner activates: every draft
    /// in the list is then stored.
    /// </summary>
    public void Publish()
    {
        foreach (var draft in pending()) (_stored ??= new HashSet<EventDraft>(ReferenceEqualityComparer.Instance)).Add(draft);
        SendStored();
    }

    /// <summary>
    /// Sends the drafts known to be stored. A send that returns runs between the owner's awaits, possibly while the
    /// owner's write of newer drafts is still out: those wait for the owner's <see cref="Publish"/>, or the log could
    /// report a change that was never stored.
    /// </summary>
    private void SendStored()
    {
        if (_sending || _stored is null) return; // the send in flight looks again when it returns
        var drafts = pending().Where(_stored.Contains).ToArray();
        if (drafts.Length > 0) _ = SendAsync(drafts);
    }

    /// <summary>The owner's reminder named <see cref="ReminderName"/> fired: re-send, or retire the reminder.</summary>
    public async Task OnReminderAsync()
    {
        if (pending().Count > 0)
        {
            _reminderRegistered = true;
            Publish();
        }
        else
        {
            await StopRetryingAsync(lookUpReminder: true);
        }
    }

    /// <summary>Call from the owner's OnDeactivateAsync: drafts still unconfirmed keep being re-sent after it is gone.</summary>
    public Task OnDeactivateAsync(CancellationToken cancellation) => !options.Enabled || _reminderRegistered || pending().Count == 0
        ? Task.CompletedTask
        : RetryReminder.RegisterBeforeDeactivationAsync(owner, ReminderName, retries.Reminder, cancellation);

    private async Task SendAsync(EventDraft[] drafts)
    {
        _sending = true;
        try
        {
            await publisher.PublishAsync(drafts);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _sending = false;
            RetryLater();
            return;
        }
        _sending = false;
        // Drafts recorded while this send was out stay, and are sent once stored.
        var sent = new HashSet<EventDraft>(drafts, ReferenceEqualityComparer.Instance);
        var left = pending().Where(d => !sent.Contains(d)).ToList();
        replace(left);
        _stored?.ExceptWith(drafts);
        if (_stored is { Count: 0 }) _stored = null;
        if (left.Count > 0) SendStored();
        else if (_retry is not null || _reminderRegistered) await StopRetryingAsync();
    }

    private void RetryLater() => _retry ??= owner.RegisterGrainTimer(async () =>
    {
        if (pending().Count == 0)
        {
            await StopRetryingAsync();
            return;
        }
        // Still unconfirmed: make sure a restart of the owner re-sends too.
        if (!_reminderRegistered)
        {
            await owner.RegisterOrUpdateReminder(ReminderName, retries.Reminder, retries.Reminder);
            _reminderRegistered = true;
        }
        Publish();
    }, retries.Resend, retries.Resend);

    private async Task StopRetryingAsync(bool lookUpReminder = false)
    {
        _retry?.Dispose();
        _retry = null;
        if (!_reminderRegistered && !lookUpReminder) return;
        if (await owner.GetReminder(ReminderName) is { } reminder) await owner.UnregisterReminder(reminder);
        _reminderRegistered = false;
    }
}

/// <summary>Builds drafts: the payload serialised once, when the event is recorded.</summary>
public static class EventDrafts
{
    public static EventDraft Create<T>(string organization, string sourceKey, string type, Guid? agentId, string? account, string? symbol,
        DateTimeOffset at, T data) => new(organization, sourceKey, type, agentId, account, symbol, at, EventJson.Data(data));
}
