using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>Durability with grain state and reminders in a real PostgreSQL (failover with killed processes: the Integration tests).</summary>
public sealed class PostgresTests
{
    private static string NewServiceId() => "test-" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public async Task After_a_graceful_stop_and_start_of_the_whole_cluster_agents_accounts_positions_and_batches_are_back_and_exits_still_fire()
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
}
