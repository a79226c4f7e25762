namespace AgentDesk.Grains.Infrastructure;

/// <summary>
/// The reminder that re-sends an outbox's messages once its owner is gone. An outbox sends from a timer first, and only
/// registers the reminder when a message stays unconfirmed; but the timer dies with the activation, and a failed call
/// deactivates its grain (<see cref="DiscardStateOnFailure"/>), often while the database is the thing failing. An owner
/// that deactivates with messages outstanding therefore registers the reminder before it goes, retrying for as long as
/// its deactivation may take: a restarting database is back within seconds, and without the reminder nothing would wake
/// the owner again to re-send.
/// </summary>
public static class RetryReminder
{
    public static async Task RegisterBeforeDeactivationAsync(Grain owner, string name, TimeSpan period, CancellationToken cancellation)
    {
        var pause = TimeSpan.FromMilliseconds(250);
        while (true)
        {
            try
            {
                await owner.RegisterOrUpdateReminder(name, period, period, cancellation);
                return;
            }
            catch (Exception) when (!cancellation.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(pause, cancellation);
                }
                catch (OperationCanceledException)
                {
                    return; // out of time: the messages stay stored, and the owner re-sends them when it next activates
                }
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
            }
            catch (Exception)
            {
                return;
            }
        }
    }
}
