namespace AgentDesk.Grains.Infrastructure;

/// <summary>
/// Messages a grain must deliver at least once to other grains (docs/architecture.md, "Outboxes"). They live in
/// the owner's own state, so a message is stored by the same write as the change that caused it. After that
/// write the owner calls <see cref="SendAll"/>; the receiver applies each message idempotently (by its id) and
/// confirms it back, and the owner then removes it with <see cref="ConfirmAsync"/>. Until then a timer re-sends
/// every <see cref="Options.RetryOptions.ResendSeconds"/>, and a reminder takes over so a deactivated or crashed owner re-sends too.
/// Sends are one-way: the owner never waits on a receiver, so no call cycle can form.
/// </summary>
public sealed class Outbox<TMessage>(
    Grain owner,
    Func<List<TMessage>> pending,
    Func<TMessage, string> idOf,
    Action<TMessage> send,
    string reminderName,
    Options.RetryOptions retries)
{
    private IGrainTimer? _retry;
    private bool _reminderRegistered;

    public string ReminderName => reminderName;

    public bool IsEmpty => pending().Count == 0;

    /// <summary>Queues a message; it is sent by the next <see cref="SendAll"/>, after the owner stored it.</summary>
    public void Add(TMessage message) => pending().Add(message);

    /// <summary>Sends every pending message, and keeps re-sending until each is confirmed.</summary>
    public void SendAll()
    {
        if (IsEmpty) return;
        foreach (var message in pending()) send(message);
        _retry ??= owner.RegisterGrainTimer(async () =>
        {
            if (IsEmpty) return;
            // Still unconfirmed after a few seconds: make sure a restart re-sends too.
            if (!_reminderRegistered)
            {
                await owner.RegisterOrUpdateReminder(reminderName, retries.Reminder, retries.Reminder);
                _reminderRegistered = true;
            }
            foreach (var message in pending()) send(message);
        }, retries.Resend, retries.Resend);
    }

    /// <summary>Removes a confirmed message; true when it was pending (the owner then stores its state).</summary>
    public async Task<bool> ConfirmAsync(string id)
    {
        if (pending().RemoveAll(m => idOf(m) == id) == 0) return false;
        if (IsEmpty) await StopRetryingAsync();
        return true;
    }

    /// <summary>Call from the owner's OnDeactivateAsync: messages still unconfirmed keep being re-sent after it is gone.</summary>
    public Task OnDeactivateAsync(CancellationToken cancellation) => IsEmpty || _reminderRegistered
        ? Task.CompletedTask
        : RetryReminder.RegisterBeforeDeactivationAsync(owner, reminderName, retries.Reminder, cancellation);

    /// <summary>The owner's reminder fired: re-send, or retire the reminder once nothing is pending.</summary>
    public async Task OnReminderAsync()
    {
        if (!IsEmpty)
        {
            SendAll();
            return;
        }
        await StopRetryingAsync(lookUpReminder: true);
    }

    private async Task StopRetryingAsync(bool lookUpReminder = false)
    {
        _retry?.Dispose();
        _retry = null;
        // Only a reminder this activation registered (or one that just fired) is looked up: a lookup is a storage read.
        if (!_reminderRegistered && !lookUpReminder) return;
        var reminder = await owner.GetReminder(reminderName);
        if (reminder is not null) await owner.UnregisterReminder(reminder);
        _reminderRegistered = false;
    }
}
