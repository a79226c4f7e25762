using AgentDesk.Contracts.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;

namespace AgentDesk.Grains.Events;

/// <summary>
/// The events a grain caused and its organisation's log has not confirmed yet (docs/architecture.md, "Outboxes"). They
/// live in the grain's own state: <see cref="Add"/> before the write that makes the change, <see cref="Publish"/> after it,
/// so an event is stored by the same write as its cause and costs no write of its own. Drafts the log confirms are
/// dropped from the list in memory and from storage by the next write; a grain that dies first re-sends them when it
/// activates again, and the log recognises them by source key. A failed send is retried by a timer, then a reminder.
/// Sending never blocks the grain: the publisher answers when the log has stored the drafts.
/// </summary>
public sealed class EventOutbox(Grain owner, Func<List<EventDraft>> pending, IEventPublisher publisher, EventOptions options, RetryOptions retries)
{
    public const string ReminderName = "events";

    /// <summary>Source keys the log confirmed; their drafts leave the list at the next <see cref="Add"/>.</summary>
    private readonly HashSet<string> _stored = new(StringComparer.Ordinal);

    private bool _sending;
    private bool _reminderRegistered;
    private IGrainTimer? _retry;

    public bool Enabled => options.Enabled;

    /// <summary>Records an event; call it before the write that stores the change the event reports.</summary>
    public void Add(EventDraft draft)
    {
        if (!options.Enabled) return;
        // Confirmed drafts leave here, inside the owner's own turn, never while a write of the state may be serialising it.
        var list = pending();
        if (_stored.Count > 0)
        {
            list.RemoveAll(d => _stored.Contains(d.SourceKey));
            _stored.Clear();
        }
        list.Add(draft);
    }

    /// <summary>Sends what the log has not confirmed; call it after the owner's write, and when the owner activates.</summary>
    public void Publish()
    {
        if (_sending) return; // the send in flight looks again when it returns
        var drafts = Unconfirmed();
        if (drafts.Length > 0) _ = SendAsync(drafts);
    }

    /// <summary>The owner's reminder named <see cref="ReminderName"/> fired: re-send, or retire the reminder.</summary>
    public async Task OnReminderAsync()
    {
        if (Unconfirmed().Length > 0)
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
    public Task OnDeactivateAsync(CancellationToken cancellation) => !options.Enabled || _reminderRegistered || Unconfirmed().Length == 0
        ? Task.CompletedTask
        : RetryReminder.RegisterBeforeDeactivationAsync(owner, ReminderName, retries.Reminder, cancellation);

    private EventDraft[] Unconfirmed() => pending().Where(d => !_stored.Contains(d.SourceKey)).ToArray();

    private async Task SendAsync(EventDraft[] drafts)
    {
        _sending = true;
        try
        {
            await publisher.PublishAsync(drafts);
            foreach (var draft in drafts) _stored.Add(draft.SourceKey);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _sending = false;
            RetryLater();
            return;
        }
        _sending = false;
        if (Unconfirmed().Length > 0) Publish(); // recorded while this send was out
        else if (_retry is not null || _reminderRegistered) await StopRetryingAsync();
    }

    private void RetryLater() => _retry ??= owner.RegisterGrainTimer(async () =>
    {
        if (Unconfirmed().Length == 0)
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
