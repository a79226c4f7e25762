using System.Diagnostics;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Silo.Configuration;

namespace AgentDesk.Benchmarks.Events;

/// <summary>What events cost a batch: batch-open to 1,000 and 10,000 subscribers on memory storage.</summary>
public static class EventsBenchmark
{
    public static async Task RunAsync()
    {
        foreach (var subscribers in new[] { 1_000, 10_000 })
        {
            var times = await MeasureAsync(subscribers);
            Report.Figure($"events.batch_open_{subscribers}_memory_median", Median(times), "ms");
        }
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static async Task<List<double>> MeasureAsync(int subscribers)
    {
        await using var cluster = await BenchCluster.StartAsync(ClusterMode.Memory);
        var grains = cluster.Grains;
        var agentId = Guid.NewGuid();
        var agent = grains.GetGrain<IAgentGrain>(agentId);
        await agent.RegisterAsync(new AgentRegistration("bench", null, null, AgentType.Perpetual, true,
            [new AgentFee("owner_flat", 0.1m, "0xfee0000000000000000000000000000000000001", FeeType.Flat)], "bench", null, null, null));
        var accounts = Enumerable.Range(0, subscribers).Select(i => $"0x{i:x40}").ToList();
        await BenchCluster.ForEachAsync(Enumerable.Range(0, subscribers), 256, async i =>
        {
            var account = grains.GetGrain<ISubscriberGrain>(GrainKeys.Account("bench", accounts[i]));
            await account.CreateAsync();
            await account.DepositAsync("seed", 1000m + i % 7);
        });
        foreach (var a in accounts) await agent.SubscribeAsync(a);
        string[] symbols = ["WARM", "SOL", "ETH", "BTC"];
        foreach (var symbol in symbols) await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(100m, DateTimeOffset.UtcNow);

        var times = new List<double>();
        foreach (var symbol in symbols)
        {
            var watch = Stopwatch.StartNew();
            var result = await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).OpenAsync(new BatchOpenRequest(agentId, symbol, Side.Long, 10, 2, 0, 0, 0, 0));
            watch.Stop();
            if (!result.IsSuccess || result.Value!.Successful != subscribers)
                throw new InvalidOperationException($"batch did not open for every subscriber: {result.Problem?.Message} {result.Value?.Successful}");
            if (symbol == "WARM") continue; // JIT and first activations of the shared grains
            times.Add(watch.Elapsed.TotalMilliseconds);
            Report.Figure($"events.batch_open_{subscribers}_memory_{symbol.ToLowerInvariant()}", watch.Elapsed.TotalMilliseconds, "ms");
        }
        return times;
    }
}
