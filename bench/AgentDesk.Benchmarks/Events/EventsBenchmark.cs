using System.Diagnostics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Options;
using AgentDesk.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentDesk.Benchmarks.Events;

/// <summary>
/// What events cost a batch: batch-open to 1,000 and 10,000 subscribers on memory storage with events on and off
/// (<c>AgentDesk:Events:Enabled</c>), three timed batches each after a warm-up; with events on, also the time until the
/// log has stored every fill, and the rate a reader pages through them. Then the hourly prune of memory mode's event store.
/// </summary>
public static class EventsBenchmark
{
    public static async Task RunAsync()
    {
        foreach (var subscribers in new[] { 1_000, 10_000 })
        {
            foreach (var enabled in new[] { false, true })
            {
                var times = await MeasureAsync(subscribers, enabled);
                Report.Figure($"events.batch_open_{subscribers}_memory_events_{(enabled ? "on" : "off")}_median", Report.Median(times), "ms");
            }
        }
        Report.Repeated("events.memory_store_prune_hour_of_week", await PruneAnHourOfAWeekAsync(), "ms");
    }

    /// <summary>
    /// Memory mode's event store holding a week of events (the default retention) at 10,000 an hour, about one
    /// 10,000-subscriber batch's fills an hour, while the hourly prune removes the hour that has aged out: one untimed prune,
    /// then three timed. The prune holds the store's lock, which every organisation's log waits for to append or read.
    /// </summary>
    private static async Task<List<double>> PruneAnHourOfAWeekAsync()
    {
        const int PerHour = 10_000;
        const int Prunes = 4;
        var hours = (int)new EventOptions().Retention.TotalHours;
        var store = new MemoryEventStore();
        var first = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        for (var hour = 0; hour < hours + Prunes; hour++)
        {
            var at = first.AddHours(hour);
            await store.AppendAsync("bench", Enumerable.Range(hour * PerHour + 1, PerHour)
                .Select(id => new EventRecord(id, "bench", $"fill:{id}", EventTypes.PositionFilled, null, null, "SOL", at, "{}")).ToList());
        }
        var times = new List<double>();
        for (var prune = 1; prune <= Prunes; prune++)
        {
            var watch = Stopwatch.StartNew();
            var pruned = await store.PruneAsync(first.AddHours(prune));
            if (pruned != PerHour) throw new InvalidOperationException($"the prune removed {pruned} events, not the hour's {PerHour}");
            if (prune > 1) times.Add(watch.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    /// <summary>The log's events after id <paramref name="after"/>, a page of up to 1,000 at a time, as a reader catching up reads them.</summary>
    private static async IAsyncEnumerable<IReadOnlyList<EventRecord>> PagesAfterAsync(IEventLogGrain log, long after)
    {
        for (var page = await log.ReadAsync(after, 1000); page.Events.Count > 0; page = await log.ReadAsync(page.Through, 1000))
            yield return page.Events;
    }

    /// <summary>How many fills the log holds after id <paramref name="after"/>, read back page by page.</summary>
    private static async Task<int> FillsAfterAsync(IEventLogGrain log, long after)
    {
        var fills = 0;
        await foreach (var page in PagesAfterAsync(log, after)) fills += page.Count(e => e.Type == EventTypes.PositionFilled);
        return fills;
    }

    private static async Task<List<double>> MeasureAsync(int subscribers, bool eventsEnabled)
    {
        await using var cluster = await BenchCluster.StartAsync(ClusterMode.Memory,
            configure: services => services.Configure<EventOptions>(o => o.Enabled = eventsEnabled));
        var grains = cluster.Grains;
        var agentId = await cluster.AgentWithSubscribersAsync(subscribers, 1000m);
        string[] symbols = ["WARM", "SOL", "ETH", "BTC"];
        foreach (var symbol in symbols) await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(100m, DateTimeOffset.UtcNow);

        var log = grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog("bench"));
        var mode = eventsEnabled ? "on" : "off";
        var times = new List<double>();
        foreach (var symbol in symbols)
        {
            var before = await log.GetLastIdAsync();
            var watch = Stopwatch.StartNew();
            var result = await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).OpenAsync(new BatchOpenRequest(agentId, symbol, Side.Long, 10, 2, 0, 0, 0, 0));
            var batch = watch.Elapsed;
            if (!result.IsSuccess || result.Value!.Successful != subscribers)
                throw new InvalidOperationException($"batch did not open for every subscriber: {result.Problem?.Message} {result.Value?.Successful}");
            var stored = watch.Elapsed;
            if (eventsEnabled)
            {
                // Every fill plus the batch's start and completion reach the log shortly after the batch answers. A batch that
                // runs past a second also reports its progress, so once the last id has moved on far enough the fills are
                // counted; the time is that of the poll whose count found them all, without the count's own reads.
                var expected = before + subscribers + 2;
                for (var polls = 0; ; polls++)
                {
                    if (await log.GetLastIdAsync() >= expected)
                    {
                        stored = watch.Elapsed;
                        if (await FillsAfterAsync(log, before) == subscribers) break;
                    }
                    if (polls > 6_000) throw new TimeoutException($"the log holds {await FillsAfterAsync(log, before)} of {subscribers} fills after 60 s");
                    await Task.Delay(10);
                }
            }
            if (symbol == "WARM") continue; // JIT and first activations of the shared grains
            times.Add(batch.TotalMilliseconds);
            Report.Figure($"events.batch_open_{subscribers}_memory_events_{mode}_{symbol.ToLowerInvariant()}", batch.TotalMilliseconds, "ms");
            if (eventsEnabled) Report.Figure($"events.all_{subscribers + 2}_events_stored_after_{symbol.ToLowerInvariant()}", stored.TotalMilliseconds, "ms");
        }

        if (eventsEnabled)
        {
            // A reader catching up from the start (an SSE client with Last-Event-ID 0, or a webhook's backlog).
            var watch = Stopwatch.StartNew();
            long read = 0;
            await foreach (var page in PagesAfterAsync(log, 0)) read += page.Count;
            Report.Figure($"events.read_{read}_events", watch.Elapsed.TotalMilliseconds, "ms");
            Report.Figure("events.read_rate", read / watch.Elapsed.TotalSeconds, "events/s");
        }
        return times;
    }
}
