using System.Diagnostics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Silo.Configuration;

namespace AgentDesk.Benchmarks.Fanout;

/// <summary>
/// A batch-open to subscribers with a long history, which the fan-out benchmark (fresh grains, five batches) never reaches.
/// A position grain is one (agent, account, token) and remembers the answer to each of its last 64 opens and 64 closes, an
/// account each of its last 512 batch steps and 1,024 settlements, and every write stores all of it; between an agent's
/// batches the grains sit idle and are collected, so each batch activates them from storage. The same batch to 1,000
/// subscribers is timed in a cluster whose positions have reached their bound (64 to 66 earlier batch cycles, each an open
/// and a close) and in one whose grains have been through 1 to 3 cycles, with every idle grain collected before each
/// timed batch.
/// With memory storage the heap also holds every stored row, so the benchmark prints the GC's share of each timed batch.
/// </summary>
public static class RepeatedBatchesBenchmark
{
    public const int Subscribers = 1_000;
    public const int Repetitions = 3;
    private const string Symbol = "SOL";

    public static async Task RunAsync()
    {
        var longHistory = await MeasureAsync("after_64_cycles", earlierCycles: 63);
        // The first cluster's heap (its rows, events and history) is garbage now: collected before the second starts.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var shortHistory = await MeasureAsync("after_1_to_3_cycles", earlierCycles: 0);
        Report.Figure("batches.after_64_vs_after_1_to_3_cycles", longHistory / shortHistory, "x");
    }

    /// <summary>
    /// Runs <paramref name="earlierCycles"/> batch cycles, then one more with every grain collected first (untimed: it
    /// compiles the activation-from-storage path), then <see cref="Repetitions"/> timed ones; answers their median time.
    /// </summary>
    private static async Task<double> MeasureAsync(string history, int earlierCycles)
    {
        await using var cluster = await BenchCluster.StartAsync(ClusterMode.Memory);
        var grains = cluster.Grains;
        var agentId = await cluster.AgentWithSubscribersAsync(Subscribers, 100m);
        var feed = grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(Symbol));
        var management = grains.GetGrain<IManagementGrain>(0);

        var setup = Stopwatch.StartNew();
        for (var cycle = 0; cycle < earlierCycles; cycle++) await CycleAsync(cluster, feed, agentId);
        if (earlierCycles > 0) Report.Figure($"batches.setup_{history}", setup.Elapsed.TotalSeconds, "s");

        var times = new List<double>();
        var cpuPerSubscriber = new List<double>();
        var gcShare = new List<double>();
        var activationsLeft = new List<double>();
        for (var repetition = -1; repetition < Repetitions; repetition++)
        {
            // Idle grains leave memory (a position after 5 minutes without a call); the benchmark forces it, so the batch
            // activates every account and position from storage.
            await Task.Delay(TimeSpan.FromSeconds(2));
            await management.ForceActivationCollection(TimeSpan.FromSeconds(1));
            var left = await management.GetTotalActivationCount();
            var batch = await CycleAsync(cluster, feed, agentId);
            if (repetition < 0) continue; // the untimed warm-up
            times.Add(batch.Elapsed.TotalMilliseconds);
            cpuPerSubscriber.Add(batch.Cpu.TotalMicroseconds / Subscribers);
            activationsLeft.Add(left);
            gcShare.Add(100 * batch.Paused.TotalMilliseconds / batch.Elapsed.TotalMilliseconds);
        }
        var median = Report.Repeated($"batches.open_1k_collected_{history}", times, "ms");
        Report.Repeated($"batches.cpu_per_subscriber_{history}", cpuPerSubscriber, "µs");
        Report.Repeated($"batches.gc_pause_share_{history}", gcShare, "%");
        Report.Repeated($"batches.activations_left_after_collection_{history}", activationsLeft, "activations");
        return median;
    }

    /// <summary>A batch cycle: the open timed, then its close.</summary>
    private static async Task<BenchCluster.BatchTiming> CycleAsync(BenchCluster cluster, IPriceFeedGrain feed, Guid agentId)
    {
        // Trades need a recent price: the same price again, which fires no exit.
        await feed.PushAsync(100m, DateTimeOffset.UtcNow);
        return await cluster.OpenAndCloseBatchAsync(agentId, Symbol, Subscribers);
    }
}
