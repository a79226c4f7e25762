using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentDesk.Integration.Tests;

/// <summary>
/// Failover as it happens in production: silo processes clustered through PostgreSQL membership, one of them killed with
/// SIGKILL after the test has checked (through Orleans' management grain) that it hosted the grains under test.
/// </summary>
public sealed class FailoverTests
{
    private sealed class TwoSilos(ServerProcess first, ServerProcess second, int firstPort, int secondPort, IHost client) : IAsyncDisposable
    {
        public ServerProcess First { get; } = first;
        public ServerProcess Second { get; } = second;
        public IClusterClient Grains => client.Services.GetRequiredService<IClusterClient>();

        /// <summary>The silo process an activation lives on (matched by its silo port).</summary>
        public async Task<ServerProcess> HostOfAsync(IAddressable grain)
        {
            var address = await Grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grain);
            Assert.NotNull(address);
            return address!.Endpoint.Port == firstPort ? First : address.Endpoint.Port == secondPort ? Second
                : throw new InvalidOperationException($"{address} is neither silo.");
        }

        public async ValueTask DisposeAsync()
        {
            await client.StopAsync();
            client.Dispose();
            await First.DisposeAsync();
            await Second.DisposeAsync();
        }
    }

    private static async Task<(TwoSilos Silos, Dictionary<string, string> Environment, int[] Ports)> StartAsync(string prefix, IDictionary<string, string>? extra = null)
    {
        var clusterId = Silos.NewClusterId(prefix);
        var environment = Silos.PostgresCluster(clusterId);
        foreach (var (k, v) in extra ?? new Dictionary<string, string>()) environment[k] = v;
        var ports = new[] { Ports.Next(), Ports.Next(), Ports.Next(), Ports.Next() };
        var first = await Silos.StartAsync(environment, ports[0], ports[1]);
        var second = await Silos.StartAsync(environment, ports[2], ports[3]);
        var client = await Silos.ConnectToPostgresAsync(clusterId);
        var silos = new TwoSilos(first, second, ports[0], ports[2], client);
        await Eventually.WaitForAsync(() => silos.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2,
            TimeSpan.FromSeconds(60), "two active silos");
        return (silos, environment, ports);
    }

    /// <summary>
    /// Two silos and an agent with 60 funded subscribers, where a batch is slow enough to be cut: 100 ms a fill, 2
    /// subscribers at a time, so 60 take 3 s. A batch shows its progress at checkpoints, the first after a second (about
    /// 20 done), which leaves two seconds to cut it; reminders every 5 s resume it.
    /// </summary>
    private static async Task<(TwoSilos Silos, Scenario World, Guid Agent, List<string> Accounts)> SlowBatchWorldAsync(string prefix)
    {
        var (silos, _, _) = await StartAsync(prefix, new Dictionary<string, string>
        {
            ["AgentDesk__PaperVenue__FillLatencyMs"] = "100",
            ["AgentDesk__Batches__Parallelism"] = "2",
            ["AgentDesk__Retries__ReminderSeconds"] = "5",
        });
        var world = new Scenario(silos.Grains);
        var agent = await world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 60; i++) accounts.Add(await world.AccountAsync(100m, agent));
        await world.PriceAsync(100m);
        return (silos, world, agent, accounts);
    }

    private static bool Transient(Exception e) => ClusterFailures.IsTransient(e) || e is OrleansException;

    [Fact]
    public async Task Killing_the_silo_that_hosts_a_price_feed_its_exit_pages_and_positions_loses_no_exit_and_no_money()
    {
        var (silos, environment, ports) = await StartAsync("fo-exits");
        await using var _ = silos;
        // The victim must host the symbol's price feed, some positions and some of their exit-index pages. Placement weighs
        // the silos' load rather than flipping a coin, so where each lands cannot be chosen in advance: a fresh world (agent,
        // 40 subscribers, symbol, batch) is built until one silo hosts all three, checked rather than hoped.
        Scenario? world = null;
        Guid agent = default;
        List<string> accounts = [];
        ServerProcess? victim = null;
        for (var attempt = 0; attempt < 6 && victim is null; attempt++)
        {
            world = new Scenario(silos.Grains);
            agent = await world.AgentAsync();
            accounts = [];
            for (var i = 0; i < 40; i++) accounts.Add(await world.AccountAsync(100m, agent));
            await world.PriceAsync(100m);
            var batch = await world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);
            Assert.Equal(40, batch.Successful);
            var feedHost = await silos.HostOfAsync(silos.Grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(world.Symbol)));
            var positionHosts = await Task.WhenAll(accounts.Select(a => silos.HostOfAsync(world.Position(agent, a))));
            var pageHosts = await Task.WhenAll(accounts.Select(a => silos.HostOfAsync(
                silos.Grains.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(world.Symbol, Grains.Prices.ExitIndex.PageOf(GrainKeys.Position(agent, a, world.Symbol)))))));
            if (positionHosts.Contains(feedHost) && pageHosts.Contains(feedHost)) victim = feedHost;
        }
        if (victim is null || world is null) throw new InvalidOperationException("No silo hosted a feed, positions and pages together in 6 worlds.");
        victim.Kill();

        // One tick below the stop, accepted once the feed is back, and no tick after it: the feed and the exit pages re-send it
        // until it reaches every position, so no exit depends on a later tick coming.
        await Eventually.WaitThroughAsync(() => world.PriceAsync(85m), _ => true, Transient, TimeSpan.FromSeconds(120), "the crossing tick to be accepted");
        await Eventually.WaitThroughAsync(async () =>
        {
            var positions = await Task.WhenAll(accounts.Select(a => world.Position(agent, a).GetAsync()));
            return positions.Count(p => p!.Status == PositionStatus.Closed);
        }, closed => closed == accounts.Count, Transient, TimeSpan.FromSeconds(120), "every position to exit");

        foreach (var account in accounts)
        {
            var position = (await world.Position(agent, account).GetAsync())!;
            Assert.Equal("stop_loss", position.CloseReason);
            Assert.Single(position.Exits); // closed once, not twice
            var view = await Eventually.WaitThroughAsync(() => world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Transient,
                TimeSpan.FromSeconds(60), "the settlement");
            Assert.Equal(100m + position.RealizedPnlUsdc, view!.FreeUsdc); // money conserved: deposit plus the realised P/L
        }

        // The killed silo comes back and the cluster returns to full membership.
        var victimPorts = victim == silos.First ? (ports[0], ports[1]) : (ports[2], ports[3]);
        await using var restarted = await Silos.StartAsync(environment, victimPorts.Item1, victimPorts.Item2);
        await Eventually.WaitThroughAsync(() => silos.Grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), h => h.Count == 2, Transient,
            TimeSpan.FromSeconds(60), "full membership again");
    }

    [Fact]
    public async Task A_batch_cut_by_killing_its_silo_resumes_by_its_reminder_and_opens_nothing_twice()
    {
        var (silos, world, agent, accounts) = await SlowBatchWorldAsync("fo-batch");
        await using var _ = silos;

        // The batch's silo is found before it starts, so nothing stands between seeing it part-way and killing it.
        var batch = silos.Grains.GetGrain<IBatchGrain>(Guid.NewGuid());
        await batch.GetAsync();
        var host = await silos.HostOfAsync(batch);
        var request = new BatchOpenRequest(agent, world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0);
        var running = batch.OpenAsync(request);
        await Eventually.WaitForAsync(() => batch.GetAsync(), b => b?.Done >= 10, TimeSpan.FromSeconds(60), "part of the batch");
        Assert.Equal(BatchStatus.Running, (await batch.GetAsync())!.Status);
        host.Kill();
        await Assert.ThrowsAnyAsync<Exception>(() => running);

        // Nobody retries: the batch's reminder resumes it on the surviving silo from what it and the accounts stored.
        var done = await Eventually.WaitThroughAsync(() => batch.GetAsync(), b => b?.Status == BatchStatus.Completed, Transient,
            TimeSpan.FromSeconds(120), "the batch to resume and complete");
        Assert.Equal(accounts.Count, done!.Successful);
        Assert.Equal(0, done.Failed);
        foreach (var account in accounts)
        {
            var position = (await world.Position(agent, account).GetAsync())!;
            Assert.Equal(done.Results.Single(r => r.Account == account).PositionId, position.PositionId);
            var view = (await world.Account(account).GetAsync())!;
            Assert.Equal(50m, view.FreeUsdc);   // reserved once
            Assert.Equal(50m, view.LockedUsdc);
        }
        // A client retry now answers the completed batch, with nothing more opened.
        var retried = await batch.OpenAsync(request);
        Assert.Equal(done.Results.Select(r => r.PositionId).Order(), retried.Value!.Results.Select(r => r.PositionId).Order());
    }

    [Fact]
    public async Task A_silo_stopped_with_sigterm_drains_its_running_batch_and_calls_meanwhile_go_to_the_other_silo()
    {
        var (silos, world, agent, accounts) = await SlowBatchWorldAsync("fo-drain");
        await using var _ = silos;

        // The silo the batch lands on is the one stopped (placement weighs load, so it is not chosen in advance).
        var batchId = Guid.NewGuid();
        await silos.Grains.GetGrain<IBatchGrain>(batchId).GetAsync();
        var host = await silos.HostOfAsync(silos.Grains.GetGrain<IBatchGrain>(batchId));
        var batch = silos.Grains.GetGrain<IBatchGrain>(batchId);
        var running = batch.OpenAsync(new BatchOpenRequest(agent, world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0));
        await Eventually.WaitForAsync(() => batch.GetAsync(), b => b?.Done >= 10, TimeSpan.FromSeconds(60), "part of the batch");

        // SIGTERM the batch's silo, and keep working while it shuts down.
        var stopping = host.StopAsync(TimeSpan.FromSeconds(60));
        var failures = new List<Exception>();
        var served = 0;
        while (!stopping.IsCompleted && served < 500)
        {
            try
            {
                await world.AccountAsync(10m);
                served++;
            }
            catch (Exception e) when (Transient(e))
            {
                failures.Add(e);
            }
        }
        await stopping;
        Assert.Empty(failures);
        Assert.True(served > 0);

        // The call that was in flight finished with the whole batch done, once.
        var result = await running;
        Assert.True(result.IsSuccess, result.Problem?.Message);
        Assert.Equal(BatchStatus.Completed, result.Value!.Status);
        Assert.Equal(accounts.Count, result.Value.Successful);
        foreach (var account in accounts)
        {
            var view = (await world.Account(account).GetAsync())!;
            Assert.Equal(50m, view.LockedUsdc); // reserved once
        }
    }

    [Fact]
    public async Task Killing_every_silo_at_once_loses_nothing_stored_and_the_restarted_cluster_still_fires_exits()
    {
        var (silos, environment, ports) = await StartAsync("fo-all");
        var world = new Scenario(silos.Grains);
        var agent = await world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 10; i++) accounts.Add(await world.AccountAsync(100m, agent));
        await world.PriceAsync(100m);
        var batch = await world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);
        silos.First.Kill();
        silos.Second.Kill(); // no graceful shutdown anywhere: what is in PostgreSQL is all there is
        await silos.DisposeAsync();

        await using var first = await Silos.StartAsync(environment, ports[0], ports[1]);
        await using var second = await Silos.StartAsync(environment, ports[2], ports[3]);
        using var client = await Silos.ConnectToPostgresAsync(environment["AgentDesk__Cluster__ClusterId"]);
        var restored = new Scenario(client.Services.GetRequiredService<IClusterClient>(), world.Organization);
        Assert.Equal(batch.Successful, (await restored.Grains.GetGrain<IBatchGrain>(batch.BatchId).GetAsync())!.Successful);
        var feed = restored.Grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(world.Symbol));
        await Eventually.WaitThroughAsync(async () =>
        {
            await feed.PushAsync(85m, DateTimeOffset.UtcNow);
            var positions = await Task.WhenAll(accounts.Select(a => restored.Grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent, a, world.Symbol)).GetAsync()));
            return positions.Count(p => p!.Status == PositionStatus.Closed);
        }, closed => closed == accounts.Count, Transient, TimeSpan.FromSeconds(90), "every stop to fire in the restarted cluster");
        foreach (var account in accounts)
            await Eventually.WaitThroughAsync(() => restored.Account(account).GetAsync(), v => v!.LockedUsdc == 0m && v.OpenPositionKeys.Count == 0, Transient,
                TimeSpan.FromSeconds(60), "the settlement");
    }
}
