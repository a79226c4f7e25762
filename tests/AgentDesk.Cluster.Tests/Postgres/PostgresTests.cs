using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>Durability and failover with grain state and reminders in a real PostgreSQL.</summary>
public sealed class PostgresTests
{
    private static string NewServiceId() => "test-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task After_a_whole_cluster_restart_agents_accounts_positions_and_batches_are_back_and_exits_still_fire()
    {
        var serviceId = NewServiceId();
        Guid agent, batchId;
        string rich, poor, symbol;
        await using (var first = await PostgresCluster.StartAsync(serviceId))
        {
            var world = new Scenario(first.Client);
            symbol = world.Symbol;
            agent = await world.AgentAsync();
            rich = await world.AccountAsync(1000m, agent);
            poor = await world.AccountAsync(6m, agent);
            await world.PriceAsync(100m);
            batchId = (await world.BatchOpenAsync(agent, weight: 50, leverage: 2, stopLoss: 80m)).BatchId;
            await first.StopAllSilosAsync();
        }

        await using var second = await PostgresCluster.StartAsync(serviceId);
        var again = new Scenario(second.Client);
        Assert.NotNull(await again.Agent(agent).GetProfileAsync());
        Assert.Equal(2, (await again.Agent(agent).GetProfileAsync())!.SubscriberCount);
        var account = (await again.Account(rich).GetAsync())!;
        Assert.Equal(500m, account.FreeUsdc);
        Assert.Equal(500m, account.LockedUsdc);
        var batch = (await second.Client.GetGrain<IBatchGrain>(batchId).GetAsync())!;
        Assert.Equal(BatchStatus.Completed, batch.Status);
        Assert.Equal(1, batch.Successful);
        Assert.Equal(Errors.BelowMinTradeSize, batch.Results.Single(r => r.Account == poor).Problem!.Code);
        var position = second.Client.GetGrain<IPositionGrain>(GrainKeys.Position(agent, rich, symbol));
        Assert.Equal(PositionStatus.Open, (await position.GetAsync())!.Status);

        // The exit index survived too: a tick through the stop closes the position in the new cluster.
        await second.Client.GetGrain<Contracts.Prices.IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(79m, DateTimeOffset.UtcNow);
        var closed = await Eventually.WaitForAsync(() => position.GetAsync(), p => p!.Status == PositionStatus.Closed, TimeSpan.FromSeconds(20), "stop-loss after restart");
        Assert.Equal("stop_loss", closed!.CloseReason);
        await Eventually.WaitForAsync(() => again.Account(rich).GetAsync(), a => a!.LockedUsdc == 0m, TimeSpan.FromSeconds(20), "settlement");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_two_silos_one_stopped_or_killed_the_other_keeps_serving_and_positions_still_exit(bool kill)
    {
        await using var cluster = await PostgresCluster.StartAsync(NewServiceId(), silos: 2);
        var world = new Scenario(cluster.Client);
        var agent = await world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 30; i++) accounts.Add(await world.AccountAsync(100m, agent));
        await world.PriceAsync(100m);
        await world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);

        var secondary = cluster.GetActiveSilos().Skip(1).First();
        if (kill) await cluster.KillSiloAsync(secondary);
        else await cluster.StopSiloAsync(secondary);

        // Keep ticking below the stop: exits are level-based, so a tick lost with the dead silo is healed by the next.
        var all = await Eventually.WaitForAsync(async () =>
        {
            try
            {
                await world.PriceAsync(85m);
                var statuses = await Task.WhenAll(accounts.Select(a => world.Position(agent, a).GetAsync()));
                return statuses.Count(p => p!.Status == PositionStatus.Closed);
            }
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
            {
                return -1; // calls routed to the dead silo fail until it is declared dead
            }
        }, closed => closed == accounts.Count, TimeSpan.FromSeconds(90), "every position to exit");
        Assert.Equal(accounts.Count, all);
        foreach (var account in accounts)
            Assert.Equal(PositionStatus.Closed, (await world.Position(agent, account).GetAsync())!.Status);
    }

    [Fact]
    public async Task A_batch_interrupted_by_a_killed_silo_resumes_without_opening_twice()
    {
        // 5 subscribers at a time, 100 ms a fill: the 120-subscriber batch runs for about 2.5 s, long enough to be cut.
        await using var cluster = await PostgresCluster.StartAsync(NewServiceId(), silos: 2, venueDelay: TimeSpan.FromMilliseconds(100), batchParallelism: 5);
        var world = new Scenario(cluster.Client);
        var agent = await world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 120; i++) accounts.Add(await world.AccountAsync(100m, agent));
        await world.PriceAsync(100m);

        var batchId = Guid.NewGuid();
        var request = new BatchOpenRequest(agent, world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0);
        var batch = cluster.Client.GetGrain<IBatchGrain>(batchId);
        var running = batch.OpenAsync(request);

        // Wait until part of the fan-out is done, then kill the silo that runs the batch.
        await Eventually.WaitForAsync(async () =>
        {
            var views = await Task.WhenAll(accounts.Select(a => world.Account(a).GetAsync()));
            return views.Count(v => v!.LockedUsdc > 0);
        }, done => done >= 10, TimeSpan.FromSeconds(60), "part of the batch");
        Assert.False(running.IsCompleted, "the batch finished before it could be interrupted");
        Assert.True(cluster.TryGetGrainContext(((GrainReference)batch).GrainId, out var batchContext));
        var host = cluster.GetActiveSilos().First(s => Equals(batchContext!.Address.SiloAddress, s.SiloAddress));
        await cluster.KillSiloAsync(host);
        await Assert.ThrowsAnyAsync<Exception>(() => running);

        // The client retries with the same request; the batch resumes from what it and the accounts stored.
        var result = await Eventually.WaitForAsync(async () =>
        {
            try
            {
                var r = await batch.OpenAsync(request);
                return r.Value?.Status == BatchStatus.Completed ? r.Value : null;
            }
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException or OrleansMessageRejectionException)
            {
                return null;
            }
        }, r => r is not null, TimeSpan.FromSeconds(120), "the resumed batch") ?? throw new InvalidOperationException();

        Assert.Equal(accounts.Count, result.Successful);
        Assert.Equal(0, result.Failed);
        foreach (var account in accounts)
        {
            Assert.Equal(result.Results.Single(r => r.Account == account).PositionId, (await world.Position(agent, account).GetAsync())!.PositionId);
            var view = (await world.Account(account).GetAsync())!;
            Assert.Equal(50m, view.FreeUsdc);
            Assert.Equal(50m, view.LockedUsdc);
        }
    }
}
