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
    public const int Subscribers = 10_000;

    public static async Task RunAsync()
    {
        var loop = PlainLoop();
        Report.Figure("fanout.plain_loop_10k", loop.TotalMilliseconds, "ms");

        var memory = await MeasureAsync(ClusterMode.Memory, null);
        var memoryMedian = Report.Repeated("fanout.batch_open_10k_memory", memory, "ms");
        Report.Figure("fanout.memory_vs_plain_loop", memoryMedian / loop.TotalMilliseconds, "x");

        if (Environment.GetEnvironmentVariable("AGENTDESK_BENCH_POSTGRES") is { Length: > 0 } postgres)
        {
            var pg = await MeasureAsync(ClusterMode.Postgres, postgres);
            var pgMedian = Report.Repeated("fanout.batch_open_10k_postgres", pg, "ms");
            Report.Figure("fanout.postgres_vs_memory", pgMedian / memoryMedian, "x");
        }
        else
        {
            Console.WriteLine("# fanout.batch_open_10k_postgres: skipped (AGENTDESK_BENCH_POSTGRES not set; ./bench.sh sets it)");
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

    private static async Task<List<double>> MeasureAsync(ClusterMode mode, string? connectionString)
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
        var times = new List<double>();
        for (var repetition = 0; repetition < 5; repetition++)
            times.Add((await cluster.OpenAndCloseBatchAsync(agentId, "SOL", Subscribers)).Elapsed.TotalMilliseconds);
        return times;
    }
}
