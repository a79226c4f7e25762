using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// A batch close that its batch gives up on, at a venue outside the cluster: the batch records what the venue did, not
/// what its failed calls suggest, and a close of that batch arriving later never trades.
/// </summary>
[Collection(OutsideVenueClusterCollection.Name)]
public sealed class OutsideVenueTests(OutsideVenueClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<(Guid Agent, string Account, BatchResult Opened, AccountFaults Faults)> OpenAsync(decimal stopLoss = 0)
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        var opened = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2, stopLoss: stopLoss);
        Assert.True(opened.Results.Single().Success, opened.Results.Single().Problem?.Message);
        return (agent, account, opened, FaultPlan.ForPosition(_world.Organization, account, agent, _world.Symbol));
    }

    [Fact]
    public async Task A_close_the_venue_carried_out_while_every_answer_was_lost_is_recorded_as_the_sale_it_was()
    {
        var (agent, account, opened, faults) = await OpenAsync();
        // The venue sells and its answer is lost; every later close call fails like a bug, so the batch gives up on the step.
        faults.VenueCloseAnswersToLose = 1;

        var closed = await _world.BatchCloseAsync(agent, opened.BatchId);

        Assert.Equal(BatchStatus.Completed, closed.Status);
        var step = closed.Results.Single();
        Assert.True(step.Success, step.Problem?.Message); // not step_failed ("nothing was traded") for a sale that happened
        Assert.False(step.Skipped);
        Assert.Equal(1, faults.VenueClosesExecuted);
        Assert.Equal(0, faults.VenueClosesResent); // asked about, not sent again (a chain would refuse the second)
        var position = (await _world.Position(agent, account).GetAsync())!;
        Assert.Equal(PositionStatus.Closed, position.Status);
        Assert.Equal(step.Transaction!.Hash, position.Exits.Single().Transaction!.Hash);
        // The account gets its margin back with the sale's P/L, once.
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the close's settlement");
        Assert.Equal(100m + position.RealizedPnlUsdc, view!.FreeUsdc);
    }

    [Fact]
    public async Task A_refused_stop_sold_by_its_exit_retry_whose_answer_was_lost_is_asked_about_not_sent_again()
    {
        var (agent, account, _, faults) = await OpenAsync(stopLoss: 90m);
        // The stop's sale is refused; its retry (the reminder, every 2 s here) is carried out and its answer lost.
        faults.VenueClosesToRefuse = 1;
        faults.VenueCloseAnswersToLose = 1;

        await _world.PriceAsync(85m); // one tick under the stop, and no other
        var closed = await Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => p!.Status == PositionStatus.Closed, Patience,
            "the retried stop to be recorded");

        // The retry's pending sale is finished from what the venue did, not dropped and later sent again under the same id.
        Assert.Equal(1, faults.VenueClosesExecuted);
        Assert.Equal(0, faults.VenueClosesResent);
        Assert.Equal(CloseReasons.StopLoss, closed!.CloseReason);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the stop's settlement");
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
    }

    [Fact]
    public async Task A_stop_the_venue_keeps_refusing_is_tried_less_and_less_often_and_sells_once_it_can()
    {
        var (agent, account, _, faults) = await OpenAsync(stopLoss: 90m);
        faults.VenueClosesToRefuse = int.MaxValue;

        // Ticks under the stop four times a second for 13 s. Tried on the first, then 2, 6 and 14 s after it (the 2 s period
        // here, doubling), whether a tick or the retry comes first: trying on every tick would be about 50.
        var ticking = System.Diagnostics.Stopwatch.StartNew();
        for (var price = 85m; ticking.Elapsed < TimeSpan.FromSeconds(13); price -= 0.01m)
        {
            await _world.PriceAsync(price);
            await Task.Delay(250);
        }
        Assert.InRange(faults.VenueClosesRefused, 2, 4);

        faults.VenueClosesToRefuse = 0;
        var closed = await Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => p!.Status == PositionStatus.Closed, Patience,
            "the next try to sell");
        Assert.Equal(CloseReasons.StopLoss, closed!.CloseReason);
        Assert.Equal(1, faults.VenueClosesExecuted);
    }

    [Fact]
    public async Task A_close_that_never_reached_the_venue_is_recorded_as_failed_and_a_late_one_of_that_batch_is_refused()
    {
        var (agent, account, opened, faults) = await OpenAsync();
        faults.FailPositionCloses = true;

        var closed = await _world.BatchCloseAsync(agent, opened.BatchId);

        Assert.Equal(Errors.StepFailed, closed.Results.Single().Problem?.Code);
        Assert.Equal(0, faults.VenueClosesExecuted);
        var position = _world.Position(agent, account);
        Assert.Equal(PositionStatus.Open, (await position.GetAsync())!.Status); // still the agent's (or its exits') to close

        // A close of that batch arriving late (queued behind a dead activation, say) is refused, and sells nothing.
        faults.FailPositionCloses = false;
        var late = await position.CloseAsync(new ClosePositionCommand(BatchCommandIds.For(closed.BatchId), CloseReasons.BatchClose, opened.BatchId, null, 100m));
        Assert.Equal(Errors.StepFailed, late.Problem?.Code);
        var stillOpen = (await position.GetAsync())!;
        Assert.Equal(PositionStatus.Open, stillOpen.Status);
        Assert.Equal(0, faults.VenueClosesExecuted);

        // Only that batch's close is refused: the user's own close still sells.
        var manual = await position.CloseAsync(new ClosePositionCommand($"manual:{stillOpen.PositionId}", CloseReasons.Manual, null, stillOpen.PositionId, 100m));
        Assert.True(manual.IsSuccess, manual.Problem?.Message);
        Assert.Equal(PositionStatus.Closed, (await position.GetAsync())!.Status);
        Assert.Equal(1, faults.VenueClosesExecuted);
    }
}
