using AgentDesk.Grains.Events;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentDesk.Silo.Events;

/// <summary>
/// Deletes events older than the retention window (<see cref="EventOptions.RetentionHours"/>) every
/// <see cref="EventOptions.PruneIntervalMinutes"/>. Every silo runs it; a delete is idempotent, so several silos pruning
/// the same table only repeat cheap work.
/// </summary>
public sealed class EventRetention(IEventStore store, IOptions<EventOptions> options, TimeProvider clock, ILogger<EventRetention> logger) : BackgroundService
{
    /// <summary>The first prune waits this long, so it never races the schema being applied at start-up.</summary>
    public static readonly TimeSpan FirstPruneDelay = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(FirstPruneDelay, clock, stoppingToken);
            using var timer = new PeriodicTimer(options.Value.PruneInterval, clock);
            do
            {
                await PruneOnceAsync();
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    public async Task<int> PruneOnceAsync()
    {
        try
        {
            var pruned = await store.PruneAsync(clock.GetUtcNow() - options.Value.Retention);
            if (pruned > 0) logger.LogInformation("Pruned {Count} events older than {Hours} h", pruned, options.Value.RetentionHours);
            return pruned;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The next interval tries again; events are only kept a little longer meanwhile.
            logger.LogWarning(e, "Pruning events failed");
            return 0;
        }
    }
}
