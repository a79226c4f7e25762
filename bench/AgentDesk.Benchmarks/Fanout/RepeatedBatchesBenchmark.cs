using System.Diagnostics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Silo.Configuration;

namespace AgentDesk.Benchmarks.Fanout;

/// <summary>
/// A batch-open to subscribers whose positions and accounts have a history: the production steady state, which the
/// fan-out benchmark (fresh grains, five batches) never reaches. A position grain is one (agent, account, token) and
/// remembers the answer to each of its last 64 opens and 64 closes, an account each of its last 512 batch steps, and every
/// write stores all of it; between an agent's batches the grains sit idle and are collected, so each batch activates them
/// from storage. The same batch to 1,000 subscribers is timed after 1 and after 64 earlier batch cycles (open, then close),
/// each in a cluster of its own, with every idle grain collected before each timed batch.
/// </summary>
public static class RepeatedBatchesBenchmark
{
    public const int Subscribers = 1_000;
    public const int Repetitions = 3;
    private const string Symbol = "SOL";

    public static async Task RunAsync()
    {
        // The long history first: its setup compiles every path, so neither measurement pays for the JIT.
        var settled = await MeasureAsync(earlierCycles: 64);
        var fresh = await MeasureAsync(earlierCycles: 1);
        var freshMedian = Report.Repeated("batches.open_1k_collected_after_1_cycle", fresh.Times, "ms");
        Report.Repeated("batches.cpu_per_subscriber_after_1_cycle", fresh.CpuPerSubscriber, "µs");
        var settledMedian = Report.Repeated("batches.open_1k_collected_after_64_cycles", settled.Times, "ms");
        Report.Repeated("batches.cpu_per_subscriber_after_64_cycles", settled.CpuPerSubscriber, "µs");
        Report.Figure("batches.after_64_vs_after_1_cycle", settledMedian / freshMedian, "x");
    }

    private sealed record Measured(List<double> Times, List<double> CpuPerSubscriber);

    private static async Task<Measured> MeasureAsync(int earlierCycles)
    {
        await using var cluster = await BenchCluster.StartAsync(ClusterMode.Memory);
        var grains = cluster.Grains;
        var agentId = await cluster.AgentWithSubscribersAsync(Subscribers, 100m);
        var feed = grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(Symbol));

        var history = Stopwatch.StartNew();
        for (var cycle = 0; cycle < earlierCycles; cycle++) await CycleAsync(grains, feed, agentId, timed: false);
        Report.Figure($"batches.setup_{earlierCycles}_cycles", history.Elapsed.TotalSeconds, "s");

        var measured = new Measured([], []);
        for (var repetition = 0; repetition < Repetitions; repetition++)
        {
            // Idle grains leave memory (PositionGrain and SubscriberGrain are collected after minutes without a call); the
            // benchmark forces it, so the timed batch activates every account and position from storage.
            await Task.Delay(TimeSpan.FromSeconds(2));
            await grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.FromSeconds(1));
            var (elapsed, cpu) = await CycleAsync(grains, feed, agentId, timed: true);
            measured.Times.Add(elapsed.TotalMilliseconds);
            measured.CpuPerSubscriber.Add(cpu.TotalMicroseconds / Subscribers);
        }
        return measured;
    }

    /// <summary>A batch-open to every subscriber, then its batch-close; answers the open's time and the process's CPU time during it.</summary>
    private static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> CycleAsync(IGrainFactory grains, IPriceFeedGrain feed, Guid agentId, bool timed)
    {
        // Trades need a recent price: the same price again, which fires no exit.
        await feed.PushAsync(100m, DateTimeOffset.UtcNow);
        var openId = Guid.NewGuid();
        var cpu = Environment.CpuUsage.TotalTime;
        var watch = Stopwatch.StartNew();
        var opened = await grains.GetGrain<IBatchGrain>(openId).OpenAsync(new BatchOpenRequest(agentId, Symbol, Side.Long, 50, 2, 0, 0, 0, 0));
        watch.Stop();
        cpu = Environment.CpuUsage.TotalTime - cpu;
        if (!opened.IsSuccess || opened.Value!.Successful != Subscribers)
            throw new InvalidOperationException($"batch did not open for every subscriber: {opened.Problem?.Message} {opened.Value?.Successful}/{opened.Value?.Failed}");
        var closed = await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agentId, openId));
        if (!closed.IsSuccess || closed.Value!.Successful != Subscribers)
            throw new InvalidOperationException($"batch did not close for every subscriber: {closed.Problem?.Message}");
        // The close's settlements and their confirmations finish before the next batch.
        await Task.Delay(timed ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(200));
        return (watch.Elapsed, cpu);
    }
}
