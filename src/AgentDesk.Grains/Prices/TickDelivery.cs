using AgentDesk.Contracts.Prices;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Grains.Prices;

/// <summary>
/// Hands ticks to other grains (a feed to its exit-watch pages, a page to the positions a tick reaches) without the
/// sender waiting, yet at least once: a call that fails (its target's silo died, the call timed out, the target could
/// not activate) is re-sent by a timer, with the newest tick for that target, until it succeeds. Receivers ignore a
/// tick older than one they have evaluated, so a re-send never acts twice; without it, a tick that crossed a stop while
/// a silo was failing would fire nothing until the next tick came, and in a quiet market none may come.
/// </summary>
public sealed class TickDelivery(Grain owner, Func<string, PriceTick, Task> deliver, ILogger logger)
{
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(2);
    private readonly Dictionary<string, PriceTick> _failed = new(StringComparer.Ordinal);
    private IGrainTimer? _retry;

    public int Pending => _failed.Count;

    public void Send(string target, PriceTick tick) => _ = SendAsync(target, tick);

    private async Task SendAsync(string target, PriceTick tick)
    {
        try
        {
            await deliver(target, tick);
            if (_failed.TryGetValue(target, out var waiting) && waiting.Sequence <= tick.Sequence) _failed.Remove(target);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (!_failed.TryGetValue(target, out var waiting) || waiting.Sequence < tick.Sequence)
            {
                if (waiting is null) logger.LogWarning(e, "Tick {Sequence} of {Symbol} did not reach {Target}; re-sending every {Period} s", tick.Sequence, tick.Symbol, target, RetryPeriod.TotalSeconds);
                _failed[target] = tick;
            }
            _retry ??= owner.RegisterGrainTimer(RetryAsync, RetryPeriod, RetryPeriod);
        }
    }

    private Task RetryAsync()
    {
        if (_failed.Count == 0)
        {
            _retry?.Dispose();
            _retry = null;
            return Task.CompletedTask;
        }
        foreach (var (target, tick) in _failed.ToList()) Send(target, tick);
        return Task.CompletedTask;
    }
}
