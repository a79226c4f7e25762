using System.Diagnostics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Positions;
using AgentDesk.Domain.Sizing;
using AgentDesk.Silo.Configuration;

namespace AgentDesk.Benchmarks.Fanout;

/// <summary>
/// Batch-open to 10,000 subscribers: time until every subscriber's result is in, with memory storage and
/// with PostgreSQL, beside the same sizing done by the domain in a plain loop.
/// </summary>
public static class FanoutBenchmark
{
    private const int DefaultSubscribers = 10_000;

    /// <summary>
    /// Subscribers: 10,000, or <c>AGENTDESK_BENCH_SUBSCRIBERS</c> (a multiple of 1,000, at least 10,000) to see how the
    /// batch grows with its size.
    /// </summary>
    public static readonly int Subscribers = ReadSubscribers();

    /// <summary>
    /// A figure's name at this run's scale: the goals' names at 10,000; at another scale the count in the name follows it
    /// (<c>fanout.batch_open_50k_memory</c>) and a name without one says it (<c>fanout.postgres_vs_memory_at_50k</c>), so no
    /// figure is read off another scale's run.
    /// </summary>
    public static string Named(string figure)
    {
        if (Subscribers == DefaultSubscribers) return figure;
        // The 20,000 writes' figures are twice the subscribers; every other count in a name is the subscribers.
        if (figure.Contains("_20k", StringComparison.Ordinal)) return figure.Replace("_20k", $"_{2 * Subscribers / 1_000}k", StringComparison.Ordinal);
        if (figure.Contains("_10k", StringComparison.Ordinal)) return figure.Replace("_10k", $"_{Subscribers / 1_000}k", StringComparison.Ordinal);
        return $"{figure}_at_{Subscribers / 1_000}k";
    }

    private static int ReadSubscribers()
    {
        var setting = Environment.GetEnvironmentVariable("AGENTDESK_BENCH_SUBSCRIBERS");
        if (string.IsNullOrEmpty(setting)) return DefaultSubscribers;
        if (!int.TryParse(setting, out var subscribers) || subscribers < DefaultSubscribers || subscribers % 1_000 != 0)
            throw new ArgumentException($"AGENTDESK_BENCH_SUBSCRIBERS must be a multiple of 1,000 and at least {DefaultSubscribers:N0}, not '{setting}'.");
        return subscribers;
    }

    public static async Task RunAsync()
    {
        var loop = PlainLoop();
        Report.Figure(Named("fanout.plain_loop_10k"), loop.TotalMilliseconds, "ms");

        var (memory, _) = await MeasureAsync(ClusterMode.Memory, null);
        var memoryMedian = Report.Repeated(Named("fanout.batch_open_10k_memory"), memory.Select(b => b.Elapsed.TotalMilliseconds).ToList(), "ms");
        // With memory storage the whole cluster runs in this process, so what the process spends is the batch's. CPU per
        // subscriber compares two versions of the code on a machine whose speed wanders; CPU over the batch's time says how
        // busy the cores were (2 is all of them here); the GC's pauses and the bytes allocated say what the heap costs.
        Report.Repeated(Named("fanout.cpu_per_subscriber_memory"), memory.Select(b => b.Cpu.TotalMicroseconds / Subscribers).ToList(), "µs");
        Report.Repeated(Named("fanout.busy_cores_memory"), memory.Select(b => b.Cpu / b.Elapsed).ToList(), "cores");
        Report.Repeated(Named("fanout.gc_pause_share_memory"), memory.Select(b => 100 * b.Paused / b.Elapsed).ToList(), "%");
        // How many collections ran during each batch, beside its time: each pauses the batch for hundreds of milliseconds.
        Report.Repeated(Named("fanout.collections_memory"), memory.Select(b => (double)b.Collections).ToList(), "collections");
        Report.Repeated(Named("fanout.allocated_per_subscriber_memory"), memory.Select(b => (double)b.Allocated / Subscribers).ToList(), "bytes");
        Report.Figure(Named("fanout.memory_vs_plain_loop"), memoryMedian / loop.TotalMilliseconds, "x");

        if (Environment.GetEnvironmentVariable("AGENTDESK_BENCH_POSTGRES") is { Length: > 0 } postgres)
        {
            var (pg, writes) = await MeasureAsync(ClusterMode.Postgres, postgres);
            var pgMedian = Report.Repeated(Named("fanout.batch_open_10k_postgres"), pg.Select(b => b.Elapsed.TotalMilliseconds).ToList(), "ms");
            // The silo's share only: PostgreSQL's own work is another process's.
            Report.Repeated(Named("fanout.silo_cpu_per_subscriber_postgres"), pg.Select(b => b.Cpu.TotalMicroseconds / Subscribers).ToList(), "µs");
            Report.Repeated(Named("fanout.gc_pause_share_postgres"), pg.Select(b => 100 * b.Paused / b.Elapsed).ToList(), "%");
            Report.Repeated(Named("fanout.collections_postgres"), pg.Select(b => (double)b.Collections).ToList(), "collections");
            Report.Figure(Named("fanout.postgres_vs_memory"), pgMedian / memoryMedian, "x");
            writes!.Report();
        }
        else
        {
            Console.WriteLine($"# {Named("fanout.batch_open_10k_postgres")}: skipped (AGENTDESK_BENCH_POSTGRES not set; ./bench.sh sets it)");
        }
    }

    private static TimeSpan PlainLoop()
    {
        AgentFee[] fees = [new("owner_flat", 0.1m, "0xfee", FeeType.Flat)];
        var watch = Stopwatch.StartNew();
        var opened = 0;
        for (var round = 0; round < 5; round++)
        {
            watch.Restart();
            opened = 0;
            for (var i = 0; i < Subscribers; i++)
            {
                var sized = TradeSizing.Size(100m + i % 7, 50m, 2m, fees, FeeCaps.Default);
                if (sized.IsSuccess && PositionMath.Open(Side.Long, sized.Value!.CollateralUsdc, 2m, 100m, 8).IsSuccess) opened++;
            }
        }
        if (opened != Subscribers) throw new InvalidOperationException("plain loop did not open every position");
        return watch.Elapsed;
    }

    /// <summary>Five timed batch-opens; on PostgreSQL, then the writes of the rows they stored on their own.</summary>
    private static async Task<(List<BenchCluster.BatchTiming> Batches, PostgresWrites.Times? Writes)> MeasureAsync(ClusterMode mode, string? connectionString)
    {
        await using var cluster = await BenchCluster.StartAsync(mode, connectionString);
        var grains = cluster.Grains;
        var agentId = await cluster.AgentWithSubscribersAsync(Subscribers, 100m);
        await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed("SOL")).PushAsync(100m, DateTimeOffset.UtcNow);

        // Warm the batch code path once on a small separate agent so JIT time is not measured.
        var warmAgent = Guid.NewGuid();
        await grains.GetGrain<IAgentGrain>(warmAgent).RegisterAsync(new AgentRegistration("warm", null, null, AgentType.Perpetual, true, [], "bench", null, null, null));
        await grains.GetGrain<IAgentGrain>(warmAgent).SubscribeAsync($"0x{0:x40}"); // the first subscriber of the measured agent
        await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).OpenAsync(new BatchOpenRequest(warmAgent, "SOL", Side.Long, 1, 2, 0, 0, 0, 0));

        // Five batch-opens, each closed again (untimed) so the next finds every subscriber's collateral free.
        var timings = new List<BenchCluster.BatchTiming>();
        for (var repetition = 0; repetition < 5; repetition++) timings.Add(await cluster.OpenAndCloseBatchAsync(agentId, "SOL", Subscribers));
        var writes = mode == ClusterMode.Postgres ? await PostgresWrites.MeasureAsync(cluster.Services, connectionString!) : null;
        return (timings, writes);
    }
}
