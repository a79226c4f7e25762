using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// Closes by hand that break off: an answer lost after the sale, an attempt that never reached the position, and an exit
/// that closed the position first. The gateway asks <see cref="IManualCloseGrain.AnswerAsync"/> before anything, and
/// <see cref="IManualCloseGrain.CloseAsync"/> only for a position it found open.
/// </summary>
[Collection(FaultyClusterCollection.Name)]
public sealed class ManualCloseTests(FaultyClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<(Guid Agent, string Account, PositionSnapshot Opened, IManualCloseGrain Closes, AccountFaults Faults)> OpenAsync(decimal stopLoss = 0)
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: stopLoss);
        var opened = (await _world.Position(agent, account).GetAsync())!;
        var closes = fixture.Client.GetGrain<IManualCloseGrain>(GrainKeys.ManualClose(agent, Guid.Parse(opened.PositionId)));
        return (agent, account, opened, closes, FaultPlan.ForPosition(_world.Organization, account, agent, _world.Symbol));
    }

    private ManualCloseRequest Request(Guid agent, string account, PositionSnapshot opened, string reason, decimal price) =>
        new(GrainKeys.Position(agent, account, _world.Symbol), reason, price, opened.EntryPrice, 150m);

    [Fact]
    public async Task A_close_by_hand_whose_answer_was_lost_is_answered_on_retry_with_the_one_sale_it_made()
    {
        var (agent, account, opened, closes, faults) = await OpenAsync();
        Assert.Equal(Errors.PositionNotFound, (await closes.AnswerAsync()).Problem!.Code); // no close by hand yet

        faults.PositionCloseAnswersToLose = 1;
        await _world.PriceAsync(110m);
        await Assert.ThrowsAsync<InvalidOperationException>(() => closes.CloseAsync(Request(agent, account, opened, CloseReasons.Manual, 110m)));
        var closed = (await _world.Position(agent, account).GetAsync())!;
        Assert.False(closed.IsLive);
        var sale = Assert.Single(closed.Exits);

        // The retry: the position is in no list now, so the gateway can only ask for the answer.
        var retried = await closes.AnswerAsync();
        Assert.True(retried.IsSuccess, retried.Problem?.Message);
        Assert.Equal(sale.HistoricalSwapId, retried.Value!.Receipt.HistoricalSwapId);
        Assert.Equal(sale.Transaction, retried.Value.Receipt.Transaction);
        Assert.Equal(closed.RealizedPnlUsdc, retried.Value.Receipt.RealizedPnlUsdc);
        Assert.True(closed.RealizedPnlUsdc > 0m);
        Assert.Equal((opened.EntryPrice, 150m), (retried.Value.EntryPrice, retried.Value.NativePriceUsd));
        Assert.Equal(retried.Value, (await closes.AnswerAsync()).Value);

        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the sale's settlement");
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
    }

    [Fact]
    public async Task An_attempt_that_never_reached_the_position_sells_nothing_on_an_answer_and_a_later_close_sells_with_its_own_reason()
    {
        var (agent, account, opened, closes, faults) = await OpenAsync();
        faults.FailPositionCloses = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => closes.CloseAsync(Request(agent, account, opened, CloseReasons.Manual, 100m)));
        faults.FailPositionCloses = false;

        // The attempt is stored, but asking for its answer (as a retry that could not find the position does) sells nothing.
        Assert.Equal(Errors.PositionNotFound, (await closes.AnswerAsync()).Problem!.Code);
        Assert.True((await _world.Position(agent, account).GetAsync())!.IsLive);

        var closed = await closes.CloseAsync(Request(agent, account, opened, CloseReasons.StopLoss, 100m));
        Assert.True(closed.IsSuccess, closed.Problem?.Message);
        var sale = Assert.Single((await _world.Position(agent, account).GetAsync())!.Exits);
        Assert.Equal(CloseReasons.StopLoss, sale.Reason);
        Assert.Equal(closed.Value, (await closes.AnswerAsync()).Value);
    }

    [Fact]
    public async Task A_position_an_exit_closed_after_a_close_by_hand_was_asked_for_has_no_answer_to_give()
    {
        var (agent, account, opened, closes, faults) = await OpenAsync(stopLoss: 90m);
        faults.FailPositionCloses = true;
        await Assert.ThrowsAsync<InvalidOperationException>(() => closes.CloseAsync(Request(agent, account, opened, CloseReasons.Manual, 100m)));
        faults.FailPositionCloses = false;

        await _world.PriceAsync(85m);
        var closed = await Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => !p!.IsLive, Patience, "the stop's exit");
        Assert.Equal(Errors.PositionNotFound, (await closes.AnswerAsync()).Problem!.Code);
        Assert.Equal(Errors.PositionNotFound, (await closes.CloseAsync(Request(agent, account, opened, CloseReasons.Manual, 85m))).Problem!.Code);
        Assert.Equal(Errors.PositionNotFound, (await closes.AnswerAsync()).Problem!.Code);
        Assert.Equal(closed!.Exits, (await _world.Position(agent, account).GetAsync())!.Exits);
    }
}
