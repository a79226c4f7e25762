using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// A close by hand whose answer is lost: the position sold, the caller heard nothing, and the retry comes when the
/// position is in no list any more (the gateway then asks with no request).
/// </summary>
[Collection(FaultyClusterCollection.Name)]
public sealed class ManualCloseTests(FaultyClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_close_by_hand_whose_answer_was_lost_is_answered_on_retry_with_the_one_sale_it_made()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2);
        var opened = (await _world.Position(agent, account).GetAsync())!;
        var closes = fixture.Client.GetGrain<IManualCloseGrain>(GrainKeys.ManualClose(agent, Guid.Parse(opened.PositionId)));
        Assert.Equal(Errors.PositionNotFound, (await closes.CloseAsync(null)).Problem!.Code); // no close by hand started yet

        FaultPlan.ForPosition(_world.Organization, account, agent, _world.Symbol).PositionCloseAnswersToLose = 1;
        await _world.PriceAsync(110m);
        var request = new ManualCloseRequest(GrainKeys.Position(agent, account, _world.Symbol), CloseReasons.Manual, 110m, opened.EntryPrice, 150m);
        await Assert.ThrowsAsync<InvalidOperationException>(() => closes.CloseAsync(request));
        var closed = (await _world.Position(agent, account).GetAsync())!;
        Assert.False(closed.IsLive);
        var sale = Assert.Single(closed.Exits);

        var retried = await closes.CloseAsync(null);
        Assert.True(retried.IsSuccess, retried.Problem?.Message);
        Assert.Equal(sale.HistoricalSwapId, retried.Value!.Receipt.HistoricalSwapId);
        Assert.Equal(closed.RealizedPnlUsdc, retried.Value.Receipt.RealizedPnlUsdc);
        Assert.True(closed.RealizedPnlUsdc > 0m);
        Assert.Equal((opened.EntryPrice, 150m), (retried.Value.EntryPrice, retried.Value.NativePriceUsd));
        // Asked again with a request (two callers racing): the same answer, no second sale.
        Assert.Equal(retried.Value, (await closes.CloseAsync(request)).Value);
        Assert.Single((await _world.Position(agent, account).GetAsync())!.Exits);

        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the sale's settlement");
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
    }
}
