using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Silo.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Benchmarks.Cluster;

/// <summary>A single silo in this process, configured as the product configures it, with a co-hosted grain factory.</summary>
public sealed class BenchCluster : IAsyncDisposable
{
    private readonly IHost _host;

    private BenchCluster(IHost host) => _host = host;

    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();
    public IServiceProvider Services => _host.Services;

    public static async Task<BenchCluster> StartAsync(ClusterMode mode, string? connectionString = null, IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null)
    {
        var serviceId = "bench-" + Guid.NewGuid().ToString("N")[..8];
        var options = new AgentDeskClusterOptions
        {
            Mode = mode,
            ConnectionString = connectionString,
            ClusterId = serviceId,
            ServiceId = serviceId,
            SiloPort = FreePort(),
            GatewayPort = FreePort(),
            // The product's default is the batched provider; AGENTDESK_BENCH_BATCHED_STORAGE=0 measures Orleans' ADO.NET one.
            BatchedGrainStorage = Environment.GetEnvironmentVariable("AGENTDESK_BENCH_BATCHED_STORAGE") != "0",
        };
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (settings is not null) builder.Configuration.AddInMemoryCollection(settings);
        builder.UseOrleans(silo =>
        {
            // Localhost clustering in every mode: the benchmark measures grains and storage, not membership.
            silo.UseAgentDeskClustering(new AgentDeskClusterOptions { Mode = ClusterMode.SingleNode, ClusterId = serviceId, ServiceId = serviceId, SiloPort = options.SiloPort, GatewayPort = options.GatewayPort });
            silo.AddAgentDeskGrains(options);
            silo.Configure<Orleans.Configuration.SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromMinutes(5));
            configure?.Invoke(silo.Services);
        });
        var host = builder.Build();
        await host.StartAsync();
        return new BenchCluster(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A PERPETUAL agent with a FLAT fee in organisation "bench", followed by <paramref name="subscribers"/> accounts
    /// funded with <paramref name="deposit"/> USDC plus 0 to 6 (so sizes differ); returns the agent's id.
    /// </summary>
    public async Task<Guid> AgentWithSubscribersAsync(int subscribers, decimal deposit)
    {
        var agentId = Guid.NewGuid();
        var agent = Grains.GetGrain<IAgentGrain>(agentId);
        await agent.RegisterAsync(new AgentRegistration("bench", null, null, AgentType.Perpetual, true,
            [new AgentFee("owner_flat", 0.1m, "0xfee0000000000000000000000000000000000001", FeeType.Flat)], "bench", null, null, null));
        var accounts = Enumerable.Range(0, subscribers).Select(i => $"0x{i:x40}").ToList();
        await ForEachAsync(Enumerable.Range(0, subscribers), 256, async i =>
        {
            var account = Grains.GetGrain<ISubscriberGrain>(GrainKeys.Account("bench", accounts[i]));
            await account.CreateAsync();
            await account.DepositAsync("seed", deposit + i % 7);
        });
        foreach (var a in accounts) await agent.SubscribeAsync(a); // one agent: subscriptions are sequential anyway
        return agentId;
    }

    /// <summary>
    /// What one timed batch-open took: its time, and the process's CPU time, GC pauses, bytes allocated and collections (of
    /// any generation: each collects gen0) meanwhile.
    /// </summary>
    public sealed record BatchTiming(TimeSpan Elapsed, TimeSpan Cpu, TimeSpan Paused, long Allocated, int Collections);

    /// <summary>
    /// A batch-open (weight 50, leverage 2, long) to every one of the agent's <paramref name="subscribers"/>, timed until it
    /// answers, then its batch-close, untimed; throws unless every subscriber's step succeeded both ways. It returns a second
    /// after the close, so the close's settlements (one-way calls) are in before the next batch sizes from the balances.
    /// </summary>
    public async Task<BatchTiming> OpenAndCloseBatchAsync(Guid agentId, string symbol, int subscribers)
    {
        var openId = Guid.NewGuid();
        var cpu = Environment.CpuUsage.TotalTime;
        var paused = GC.GetTotalPauseDuration();
        var allocated = GC.GetTotalAllocatedBytes();
        var collections = GC.CollectionCount(0);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var opened = await Grains.GetGrain<IBatchGrain>(openId).OpenAsync(new BatchOpenRequest(agentId, symbol, Side.Long, 50, 2, 0, 0, 0, 0));
        watch.Stop();
        var timing = new BatchTiming(watch.Elapsed, Environment.CpuUsage.TotalTime - cpu, GC.GetTotalPauseDuration() - paused,
            GC.GetTotalAllocatedBytes() - allocated, GC.CollectionCount(0) - collections);
        if (!opened.IsSuccess || opened.Value!.Successful != subscribers)
            throw new InvalidOperationException($"batch did not open for every subscriber: {opened.Problem?.Message} {opened.Value?.Successful}/{opened.Value?.Failed}");
        var closed = await Grains.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agentId, openId));
        if (!closed.IsSuccess || closed.Value!.Successful != subscribers)
            throw new InvalidOperationException($"batch did not close for every subscriber: {closed.Problem?.Message}");
        await Task.Delay(TimeSpan.FromSeconds(1));
        return timing;
    }

    /// <summary>Runs <paramref name="work"/> over <paramref name="items"/> with at most <paramref name="parallelism"/> in flight.</summary>
    public static async Task ForEachAsync<T>(IEnumerable<T> items, int parallelism, Func<T, Task> work)
    {
        using var gate = new SemaphoreSlim(parallelism);
        var tasks = items.Select(async item =>
        {
            await gate.WaitAsync();
            try { await work(item); }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(tasks);
    }
}
