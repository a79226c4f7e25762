using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Positions;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Silo.Configuration;
using Orleans.Streams;

namespace AgentDesk.Benchmarks.Exits;

/// <summary>
/// Tick-to-exit: 100,000 open positions on one symbol (or <see cref="Positions"/>); each timed tick reaches the stop of
/// its own 1,000 of them; the time until every triggered exit is filled (median of the ticks), beside the same
/// evaluation in a plain loop. The first <see cref="TicksPerPhase"/> ticks reach positions still in memory from their
/// open; then idle positions are collected (as they are after <c>PositionGrain.PositionIdleMinutes</c>) and the next
/// ticks reach positions the tick must activate from storage, the usual case in production.
/// Also measures the alternative scheme (one explicit stream subscription per position) delivering one tick to N consumers.
/// </summary>
public static class ExitsBenchmark
{
    /// <summary>
    /// Open positions: 100,000, or <c>AGENTDESK_BENCH_POSITIONS</c> (a multiple of 1,000, at least 100,000; the
    /// production-scale run is 1,000,000). Every timed tick still reaches 1,000 of them, so the figures say whether an
    /// exit's latency and a position's memory grow with how many others are open.
    /// </summary>
    public static readonly int Positions = PositionsToOpen();

    /// <summary>Every <see cref="Stride"/>-th position belongs to a timed tick's group: 1,000 per tick at any scale.</summary>
    public static readonly int Stride = Positions / 1_000;
    public static readonly int Triggered = Positions / Stride;

    /// <summary>Appended to the figures that depend on the scale when it is not the default, so the goals (set at
    /// 100,000) are not read off another scale's run: "_of_1000k" for 1,000,000.</summary>
    private static readonly string Scale = Positions == DefaultPositions ? "" : $"_of_{Positions / 1_000}k";
    private const int DefaultPositions = 100_000;
    public const int StreamConsumers = 2_000;
    public const int EmptyActivations = 20_000;

    /// <summary>Timed ticks: tick k (0-based) falls to 94.5 - k and reaches the group of positions whose stop is 95 - k.</summary>
    public const int TicksPerPhase = 5;
    public const int Ticks = 2 * TicksPerPhase;

    private static int PositionsToOpen()
    {
        var setting = Environment.GetEnvironmentVariable("AGENTDESK_BENCH_POSITIONS");
        if (string.IsNullOrEmpty(setting)) return DefaultPositions;
        if (!int.TryParse(setting, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var positions)
            || positions < DefaultPositions || positions % 1_000 != 0)
            throw new ArgumentException($"AGENTDESK_BENCH_POSITIONS must be a multiple of 1,000 and at least {DefaultPositions:N0}, not '{setting}'.");
        return positions;
    }

    public static async Task RunAsync()
    {
        Console.WriteLine($"# exits: {Positions:N0} open positions, {Triggered:N0} reached per timed tick");
        var postgres = Environment.GetEnvironmentVariable("AGENTDESK_BENCH_POSTGRES");
        // With memory storage the heap also holds the "database", every row and event: 1,000,000 positions filled 15 GB
        // of this 24 GiB machine and had not finished opening after 20 minutes. A larger scale runs PostgreSQL only,
        // the shape production runs at that scale.
        if (Positions != DefaultPositions && string.IsNullOrEmpty(postgres))
            throw new InvalidOperationException($"{Positions:N0} positions run on PostgreSQL only: run ./bench.sh exits, which starts it.");
        var loop = PlainLoop();
        Report.Figure($"exits.plain_loop_{Positions / 1_000}k_evaluations", loop.TotalMilliseconds, "ms");

        if (Positions == DefaultPositions)
        {
            var (memory, memoryHeap) = await TickToExitsAsync(ClusterMode.Memory, null, streams: true);
            ReportMemory("_memory_storage", memoryHeap, await SettledHeapAsync());
            Report.Figure("exits.cluster_vs_plain_loop", memory / loop, "x");
        }

        if (postgres is { Length: > 0 })
        {
            var (_, postgresHeap) = await TickToExitsAsync(ClusterMode.Postgres, postgres, streams: false);
            ReportMemory(Scale, postgresHeap, await SettledHeapAsync());
        }
        else
            Console.WriteLine("# exits.tick_to_1000_exits_filled_postgres: skipped (AGENTDESK_BENCH_POSTGRES not set; ./bench.sh sets it)");
    }

    /// <summary>
    /// Opens the positions, then ticks that each reach 1,000 of their stops; the time until every triggered exit is filled
    /// (on PostgreSQL: filled and its state stored, since a fill is counted after the position's write).
    /// </summary>
    private static async Task<(TimeSpan Median, HeapReadings Heap)> TickToExitsAsync(ClusterMode mode, string? connectionString, bool streams)
    {
        var storage = mode == ClusterMode.Memory ? "" : "_" + mode.ToString().ToLowerInvariant();
        var suffix = Scale + storage;
        await using var cluster = await BenchCluster.StartAsync(mode, connectionString);
        var grains = cluster.Grains;
        var agent = Guid.NewGuid();
        var symbol = "X" + agent.ToString("N")[..7].ToUpperInvariant();
        var feed = grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol));
        await feed.PushAsync(100m, DateTimeOffset.UtcNow);

        // Memory per open position: the managed heap after a full collection, before and after the positions open
        // (their grains, states, exit envelopes and index pages), divided by their number (see ReportMemory).
        var heapBefore = await SettledHeapAsync();
        var setup = Stopwatch.StartNew();
        await BenchCluster.ForEachAsync(Enumerable.Range(0, Positions), 1_000, async i =>
        {
            // Group k of the timed ticks (1,000 positions each) stops at 95 - k; the rest stop at 50.
            var stop = i % Stride < Ticks ? 95m - i % Stride : 50m;
            var opened = await grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent, $"0x{i:x40}", symbol))
                .OpenAsync(new OpenPositionCommand("bench", null, "bench", GrainKeys.Account("bench", $"0x{i:x40}"), Side.Long, 100m, [], 2m, 100m, 8, null, 0, stop, 0, 0, [], 0, 10_000, null));
            if (!opened.IsSuccess) throw new InvalidOperationException(opened.Problem!.Message);
        });
        Report.Figure($"exits.setup_{Positions / 1_000}k_positions{storage}", setup.Elapsed.TotalSeconds, "s");
        // With memory storage the heap also holds the "database": every stored row and every event. On PostgreSQL it holds
        // what a production silo holds. Just opened, every position is still an activation with its state.
        var heapActive = GC.GetTotalMemory(forceFullCollection: true);

        // Beside it, the floor Orleans sets: an activation of a grain with no state and no behaviour.
        await BenchCluster.ForEachAsync(Enumerable.Range(0, EmptyActivations), 1_000, i => grains.GetGrain<IIdleProbeGrain>($"idle:{suffix}:{i}").TouchAsync());
        Report.Figure($"exits.bytes_per_empty_activation{suffix}", (double)(GC.GetTotalMemory(forceFullCollection: true) - heapActive) / EmptyActivations, "bytes");

        // A warm-up tick that reaches nobody, so the exit index pages are active and JIT-compiled.
        await feed.PushAsync(99m, DateTimeOffset.UtcNow);
        await Task.Delay(500);

        var fired = 0L;
        var target = 0L;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == AgentDeskMetrics.MeterName && instrument.Name == "agentdesk.exits.fired") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) =>
        {
            if (Interlocked.Add(ref fired, value) >= Volatile.Read(ref target)) done.TrySetResult();
        });
        listener.Start();

        async Task<List<double>> TimeTicksAsync(int first)
        {
            var times = new List<double>();
            for (var tick = first; tick < first + TicksPerPhase; tick++)
            {
                done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref target, (long)Triggered * (tick + 1));
                var watch = Stopwatch.StartNew();
                await feed.PushAsync(94.5m - tick, DateTimeOffset.UtcNow);
                if (await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromMinutes(2))) != done.Task)
                    throw new TimeoutException($"only {Interlocked.Read(ref fired)} of {Volatile.Read(ref target)} exits fired");
                times.Add(watch.Elapsed.TotalMilliseconds);
                // The exits' settlements, confirmations and events finish before the next tick.
                await Task.Delay(1_000);
            }
            return times;
        }

        Report.Repeated($"exits.tick_to_1000_exits_filled_active{suffix}", await TimeTicksAsync(0), "ms");

        // A position nobody calls leaves memory after PositionGrain.PositionIdleMinutes; the benchmark forces that
        // collection instead of waiting for it. What stays is what an open position costs between its open and its
        // exit: its envelope on the exit index. The next exits each activate their position from storage.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var management = grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.FromSeconds(1));
        Report.Figure($"exits.activations_left_after_collection{suffix}", await management.GetTotalActivationCount(), "activations");
        // Above every remaining stop: reaches nobody, and activates the collected index pages with their envelopes. The
        // same tick handed to every page again answers once each has loaded: how long a symbol's index takes to reload.
        var reload = Stopwatch.StartNew();
        var reloading = await feed.PushAsync(95m - TicksPerPhase + 0.25m, DateTimeOffset.UtcNow);
        await Task.WhenAll(Enumerable.Range(0, IExitWatchGrain.PagesPerSymbol)
            .Select(page => grains.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(symbol, page)).OnPriceAsync(reloading.Value!.Latest!)));
        Report.Figure($"exits.index_reload{suffix}", reload.Elapsed.TotalMilliseconds, "ms");
        await Task.Delay(500);
        var heapIdle = GC.GetTotalMemory(forceFullCollection: true);

        var median = Report.Repeated($"exits.tick_to_1000_exits_filled{suffix}", await TimeTicksAsync(TicksPerPhase), "ms");

        // Nothing else fired: the other positions were not even called.
        Report.Figure($"exits.fired_total{suffix}", Interlocked.Read(ref fired), $"exits (of {Triggered * Ticks} reached)");

        if (streams)
        {
            var (streamTime, reached) = await StreamFanoutAsync(cluster);
            Report.Figure("exits.explicit_stream_consumers_reached", reached, $"of {StreamConsumers}");
            Report.Figure("exits.explicit_stream_tick_to_consumers", streamTime.TotalMilliseconds, "ms");
            Report.Figure($"exits.explicit_stream_projected_{Positions / 1_000}k", streamTime.TotalMilliseconds * Positions / Math.Max(1, reached), "ms");
        }
        return (TimeSpan.FromMilliseconds(median), new HeapReadings(heapBefore, heapActive, heapIdle));
    }

    /// <summary>The managed heap after a full collection: before the positions open, with them all active, and idle.</summary>
    private sealed record HeapReadings(long Before, long Active, long Idle);

    /// <summary>
    /// Memory per open position, from the heap with the positions open less a baseline. The baseline is the lower of the
    /// heap before the positions opened and after the cluster was disposed: what an earlier benchmark left can be freed in
    /// between (one full run measured a negative figure from that), and the lower one never flatters the figure.
    /// </summary>
    private static void ReportMemory(string suffix, HeapReadings heap, long after)
    {
        var baseline = Math.Min(heap.Before, after);
        Report.Figure($"exits.heap_freed_during_run{suffix}", (heap.Before - after) / 1_048_576.0, "MiB");
        Report.Figure($"exits.bytes_per_active_position{suffix}", (double)(heap.Active - baseline) / Positions, "bytes");
        Report.Figure($"exits.bytes_per_open_position{suffix}", (double)(heap.Idle - baseline) / (Positions - Triggered * TicksPerPhase), "bytes");
    }

    /// <summary>A full collection, repeated a second apart until the heap stops shrinking (by 1 %), for at most 15 s.</summary>
    private static async Task<long> SettledHeapAsync()
    {
        var heap = GC.GetTotalMemory(forceFullCollection: true);
        for (var attempt = 0; attempt < 15; attempt++)
        {
            await Task.Delay(1_000);
            var next = GC.GetTotalMemory(forceFullCollection: true);
            if (next > heap * 0.99) return Math.Min(heap, next);
            heap = next;
        }
        return heap;
    }

    private static TimeSpan PlainLoop()
    {
        var positions = Enumerable.Range(0, Positions).Select(i => (
            Subject: new ExitSubject(Side.Long, 100m, 2m, 2m, 8),
            Plan: ExitPlan.None with { StopLossPrice = i % Stride == 0 ? 95m : 50m })).ToArray();
        TimeSpan best = TimeSpan.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var watch = Stopwatch.StartNew();
            var fired = 0;
            foreach (var (subject, plan) in positions)
            {
                var decision = ExitEvaluator.Evaluate(plan, subject, 94m);
                if (decision.Fills.Count > 0 && PositionMath.Close(new PositionState(Side.Long, 2m, 100m, 2m, 100m, 0m, 8), 94m).IsSuccess) fired++;
            }
            if (fired != Triggered) throw new InvalidOperationException("plain loop fired the wrong number of exits");
            best = watch.Elapsed < best ? watch.Elapsed : best;
        }
        return best;
    }

    /// <summary>The alternative: every consumer holds an explicit subscription on the symbol's stream.</summary>
    private static async Task<(TimeSpan Elapsed, int Reached)> StreamFanoutAsync(BenchCluster cluster)
    {
        var symbol = "STREAM" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();
        await BenchCluster.ForEachAsync(Enumerable.Range(0, StreamConsumers), 500,
            i => cluster.Grains.GetGrain<IStreamProbeGrain>($"probe:{i}").SubscribeAsync(symbol));
        StreamProbeGrain.Reset(StreamConsumers);
        var watch = Stopwatch.StartNew();
        await cluster.Grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(1m, DateTimeOffset.UtcNow);
        // Reported as measured, also when not every consumer was reached within the minute.
        await Task.WhenAny(StreamProbeGrain.AllReceived, Task.Delay(TimeSpan.FromMinutes(1)));
        return (watch.Elapsed, StreamConsumers - StreamProbeGrain.Remaining);
    }
}

[Alias("bench.stream-probe")]
public interface IStreamProbeGrain : IGrainWithStringKey
{
    [Alias("subscribe")]
    Task SubscribeAsync(string symbol);
}

/// <summary>A grain with an explicit subscription to a price stream, as a position would have under the alternative scheme.</summary>
[GrainType("bench-stream-probe")]
public sealed class StreamProbeGrain : Grain, IStreamProbeGrain
{
    private static int _remaining;
    private static TaskCompletionSource _all = new();

    public static Task AllReceived => _all.Task;

    public static int Remaining => Volatile.Read(ref _remaining);

    public static void Reset(int consumers)
    {
        _remaining = consumers;
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task SubscribeAsync(string symbol)
    {
        var stream = this.GetStreamProvider(IPriceFeedGrain.StreamProvider).GetStream<PriceTick>(StreamId.Create(IPriceFeedGrain.StreamNamespace, symbol));
        await stream.SubscribeAsync((_, _) =>
        {
            if (Interlocked.Decrement(ref _remaining) == 0) _all.TrySetResult();
            return Task.CompletedTask;
        });
    }
}

[Alias("bench.idle-probe")]
public interface IIdleProbeGrain : IGrainWithStringKey
{
    [Alias("touch")]
    Task TouchAsync();
}

/// <summary>A grain with no state and no behaviour: what one activation costs in Orleans itself.</summary>
[GrainType("bench-idle-probe")]
public sealed class IdleProbeGrain : Grain, IIdleProbeGrain
{
    public Task TouchAsync() => Task.CompletedTask;
}
