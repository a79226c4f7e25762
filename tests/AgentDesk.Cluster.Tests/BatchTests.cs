using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class BatchTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    [Fact]
    public async Task Batch_open_sizes_each_subscriber_fails_the_one_below_minimum_and_charges_fees_once()
    {
        var fees = new[] { new AgentFee("owner_flat", 0.1m, "0xfee0000000000000000000000000000000000001", FeeType.Flat) };
        var agent = await _world.AgentAsync(fees: fees);
        var rich = await _world.AccountAsync(1000m, agent);
        var modest = await _world.AccountAsync(100m, agent);
        var poor = await _world.AccountAsync(8m, agent); // 50% of 8 = 4 USDC < 5
        await _world.PriceAsync(100m);

        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        Assert.Equal(3, batch.Subscribers);
        Assert.Equal(2, batch.Successful);
        Assert.Equal(1, batch.Failed);
        Assert.Equal(Errors.BelowMinTradeSize, batch.Results.Single(r => r.Account == poor).Problem!.Code);

        var richView = (await _world.Account(rich).GetAsync())!;
        Assert.Equal(499.9m, richView.LockedUsdc);                       // 500 − 0.1 fee
        Assert.Equal(500m, richView.FreeUsdc);
        Assert.Equal(0.1m, richView.FeesPaidUsdc);
        var position = (await _world.Position(agent, rich).GetAsync())!;
        Assert.Equal(PositionStatus.Open, position.Status);
        Assert.Equal(499.9m, position.MarginUsdc);
        Assert.True(position.OpenTransaction!.Simulated);

        var poorView = (await _world.Account(poor).GetAsync())!;
        Assert.Equal(8m, poorView.FreeUsdc); // a failed step changes nothing
        Assert.Equal(0m, poorView.FeesPaidUsdc);

        var ledger = await fixture.Client.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(_world.Organization, fees[0].FeeAddress)).GetAsync();
        Assert.Equal(0.2m, ledger.TotalUsdc);
        Assert.Equal(0.2m, ledger.ByPartner["owner_flat"]);
    }

    [Fact]
    public async Task A_loss_beyond_the_margin_costs_the_account_its_margin_and_is_booked_as_that()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        var opened = await _world.BatchOpenAsync(agent, weight: 50, leverage: 10); // 50 of margin, 5 tokens
        await _world.PriceAsync(80m);                                                  // −100 on the market, twice the margin

        var closed = await _world.BatchCloseAsync(agent, opened.BatchId);
        Assert.True(closed.Results.Single().Success, closed.Results.Single().Problem?.Message);
        var position = (await _world.Position(agent, account).GetAsync())!;
        Assert.Equal(-50m, position.RealizedPnlUsdc);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, TimeSpan.FromSeconds(15), "the settlement");
        // The balance fell by the margin, and the realised P/L says the same.
        Assert.Equal(50m, view!.FreeUsdc);
        Assert.Equal(-50m, view.RealizedPnlUsdc);
    }

    [Fact]
    public async Task A_trigger_order_cancelled_before_it_fills_hands_its_fees_back_to_the_account_and_takes_them_from_the_ledger()
    {
        var feeAddress = TestData.NewAddress();
        var fees = new[] { new AgentFee("owner_flat", 0.1m, feeAddress, FeeType.Flat), new AgentFee("owner_bps", 50m, feeAddress, FeeType.Bps) };
        var agent = await _world.AgentAsync(fees: fees);
        var account = await _world.AccountAsync(1000m, agent);
        await _world.PriceAsync(100m);
        var openId = Guid.NewGuid();
        Assert.True((await _world.BatchOpenAsync(agent, weight: 10, leverage: 2, trigger: 90m, batchId: openId)).Results.Single().IsOrder);

        // 100 allocated: 0.1 flat and 100 × 2 × 50 bps = 1.00, so 98.9 of collateral is locked.
        var placed = (await _world.Account(account).GetAsync())!;
        Assert.Equal((900m, 98.9m, 1.1m), (placed.FreeUsdc, placed.LockedUsdc, placed.FeesPaidUsdc));
        var ledger = fixture.Client.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(_world.Organization, feeAddress));
        Assert.Equal(1.1m, (await ledger.GetAsync()).TotalUsdc);

        await _world.BatchCloseAsync(agent, openId);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, TimeSpan.FromSeconds(30), "the cancelled order's settlement");
        Assert.Equal((1000m, 0m), (view!.FreeUsdc, view.FeesPaidUsdc));
        Assert.Equal(PositionStatus.Cancelled, (await _world.Position(agent, account).GetAsync())!.Status);
        var refunded = await Eventually.WaitForAsync(() => ledger.GetAsync(), l => l.TotalUsdc == 0m, TimeSpan.FromSeconds(30), "the ledger's refund");
        Assert.Equal(0m, refunded.ByPartner["owner_flat"]);
        Assert.Equal(0m, refunded.ByPartner["owner_bps"]);
    }

    [Fact]
    public async Task A_trigger_order_the_venue_refuses_when_it_triggers_hands_its_fees_back_through_its_account()
    {
        var feeAddress = TestData.NewAddress();
        var agent = await _world.AgentAsync(fees: [new AgentFee("owner_flat", 0.1m, feeAddress, FeeType.Flat)]);
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100_000_000_000m);
        // A breakout buy at 10^12: 50 USDC × 2 buys less than the 8-decimal unit there, so the venue refuses it when it triggers.
        Assert.True((await _world.BatchOpenAsync(agent, weight: 50, leverage: 2, trigger: 1_000_000_000_000m)).Results.Single().IsOrder);
        var ledger = fixture.Client.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(_world.Organization, feeAddress));
        Assert.Equal(0.1m, (await ledger.GetAsync()).TotalUsdc);

        var tick = await _world.PriceAsync(1_000_000_000_000m);
        var cancelled = await _world.EvaluatedAsync(agent, account, tick);
        Assert.Equal(PositionStatus.Cancelled, cancelled!.Status);
        Assert.StartsWith(CloseReasons.OrderRejected, cancelled.CloseReason, StringComparison.Ordinal);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, TimeSpan.FromSeconds(30), "the refused order's settlement");
        Assert.Equal((100m, 0m), (view!.FreeUsdc, view.FeesPaidUsdc));
        Assert.Equal(0m, (await Eventually.WaitForAsync(() => ledger.GetAsync(), l => l.TotalUsdc == 0m, TimeSpan.FromSeconds(30), "the ledger's refund")).TotalUsdc);
    }

    [Fact]
    public async Task The_same_batch_request_again_returns_the_first_result_and_a_different_one_conflicts()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(50m);
        var id = Guid.NewGuid();
        var first = await _world.BatchOpenAsync(agent, batchId: id);
        var again = await _world.BatchOpenAsync(agent, batchId: id);
        Assert.Equal(first.Successful, again.Successful);
        Assert.Equal(first.Results.Single().PositionId, again.Results.Single().PositionId);
        Assert.Equal(50m, (await _world.Account(account).GetAsync())!.FreeUsdc); // reserved once

        var different = await fixture.Client.GetGrain<IBatchGrain>(id)
            .OpenAsync(new BatchOpenRequest(agent, _world.Symbol, Side.Long, 60, 2, 0, 0, 0, 0));
        Assert.Equal(Errors.IdempotencyConflict, different.Problem!.Code);
    }

    [Fact]
    public async Task An_account_a_subscriber_page_still_lists_after_it_stopped_following_is_not_traded_for()
    {
        var agent = await _world.AgentAsync();
        var follower = await _world.AccountAsync(100m, agent);
        var gone = await _world.AccountAsync(100m, agent);
        // An unfollow that failed half-way: the account forgot the agent, the agent's page still lists the account.
        Assert.NotNull(await _world.Account(gone).RemoveSubscriptionAsync(agent));
        await _world.PriceAsync(10m);

        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        Assert.True(batch.Results.Single(r => r.Account == follower).Success);
        var refused = batch.Results.Single(r => r.Account == gone);
        Assert.Equal((false, Errors.NotSubscribed), (refused.Success, refused.Problem!.Code));
        var untouched = (await _world.Account(gone).GetAsync())!;
        Assert.Equal((100m, 0m, 0), (untouched.FreeUsdc, untouched.LockedUsdc, untouched.OpenPositionKeys.Count));
        Assert.Null(await _world.Position(agent, gone).GetAsync());
    }

    [Fact]
    public async Task Unfollowing_takes_the_account_off_the_agent_s_pages_and_a_retry_answers_not_subscribed()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        Assert.True((await _world.Agent(agent).UnsubscribeAsync(account)).IsSuccess);
        Assert.Equal(Errors.NotSubscribed, (await _world.Agent(agent).UnsubscribeAsync(account)).Problem!.Code);
        Assert.DoesNotContain(account, await SubscriberPages.ReadAllAsync(fixture.Client, agent));
        Assert.Empty((await _world.Account(account).GetAsync())!.Subscriptions);
        Assert.Equal(0, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
    }

    [Fact]
    public async Task A_close_of_an_earlier_trade_settling_late_leaves_the_position_opened_since_in_the_account()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(10m);
        await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        var before = (await _world.Account(account).GetAsync())!;

        // The settlement of an earlier trade on the same agent, account and symbol (re-sent after a failure, or queued behind
        // this open): it closed that trade, not this one.
        await _world.Account(account).SettleAsync(new Settlement("s-" + Guid.NewGuid().ToString("N"), key, Guid.NewGuid().ToString(), 0m, 0m, 0m, Closed: true));

        var after = (await _world.Account(account).GetAsync())!;
        Assert.Equal([key], after.OpenPositionKeys);
        Assert.Equal((before.FreeUsdc, before.LockedUsdc), (after.FreeUsdc, after.LockedUsdc));
    }

    [Fact]
    public async Task A_replayed_batch_step_opens_nothing_more()
    {
        var agent = await _world.AgentAsync();
        var address = await _world.AccountAsync(200m, agent);
        await _world.PriceAsync(10m);
        var step = new BatchOpenStep(Guid.NewGuid(), agent, _world.Symbol, Side.Long, 50, 2, [], FeeCaps.Default, 10m, 8, null, 0, 0, 0, 0);

        var first = await _world.Account(address).OpenFromBatchAsync(step);
        var replay = await _world.Account(address).OpenFromBatchAsync(step);

        Assert.True(first.Success);
        Assert.True(replay.Success);
        Assert.Equal(first.PositionId, replay.PositionId);
        Assert.Equal(first.Transaction, replay.Transaction);
        var view = (await _world.Account(address).GetAsync())!;
        Assert.Equal(100m, view.FreeUsdc);
        Assert.Equal(100m, view.LockedUsdc);
        Assert.Equal(first.PositionId, (await _world.Position(agent, address).GetAsync())!.PositionId);
    }

    [Fact]
    public async Task Two_concurrent_batches_on_one_symbol_leave_one_position_per_account()
    {
        var agent = await _world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 20; i++) accounts.Add(await _world.AccountAsync(100m, agent));
        await _world.PriceAsync(20m);

        var batches = await Task.WhenAll(_world.BatchOpenAsync(agent, weight: 40), _world.BatchOpenAsync(agent, weight: 40));

        foreach (var account in accounts)
        {
            var successes = batches.Count(b => b.Results.Single(r => r.Account == account).Success);
            Assert.Equal(1, successes);
            var winner = batches.Single(b => b.Results.Single(r => r.Account == account).Success);
            Assert.Equal(winner.Results.Single(r => r.Account == account).PositionId, (await _world.Position(agent, account).GetAsync())!.PositionId);
            var loser = batches.Single(b => !b.Results.Single(r => r.Account == account).Success);
            Assert.Equal(Errors.PositionAlreadyOpen, loser.Results.Single(r => r.Account == account).Problem!.Code);
            var view = (await _world.Account(account).GetAsync())!;
            Assert.Equal(60m, view.FreeUsdc);   // the losing batch reserved and released
            Assert.Equal(40m, view.LockedUsdc);
        }
        Assert.Equal(20, batches.Sum(b => b.Successful));
    }

    [Fact]
    public async Task Batch_close_closes_what_the_batch_opened_and_skips_it_the_second_time()
    {
        var agent = await _world.AgentAsync();
        var a = await _world.AccountAsync(100m, agent);
        var b = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        var opened = await _world.BatchOpenAsync(agent, weight: 100, leverage: 2);
        await _world.PriceAsync(110m);

        var close = await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, opened.BatchId));
        Assert.True(close.IsSuccess);
        Assert.Equal(2, close.Value!.Successful);
        Assert.Equal(0, close.Value.Skipped);

        // Closed at ~110 with 2x leverage on 100 USDC: about +20 USDC each, minus paper slippage.
        var view = await Eventually.WaitForAsync(() => _world.Account(a).GetAsync(), v => v!.LockedUsdc == 0m, what: "settlement");
        Assert.InRange(view!.FreeUsdc, 119m, 120m);
        Assert.Equal(PositionStatus.Closed, (await _world.Position(agent, b).GetAsync())!.Status);

        var again = await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, opened.BatchId));
        Assert.Equal(0, again.Value!.Successful);
        Assert.Equal(2, again.Value.Skipped);
    }

    [Fact]
    public async Task Batch_level_errors_change_nothing()
    {
        var swap = await _world.AgentAsync(AgentType.Swap);
        var account = await _world.AccountAsync(100m, swap);
        var grain = fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid());

        var noPrice = await grain.OpenAsync(new BatchOpenRequest(swap, _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0));
        Assert.Equal(Errors.NoPrice, noPrice.Problem!.Code);
        await _world.PriceAsync(10m);
        Assert.Equal(Errors.ShortNotAllowed, (await grain.OpenAsync(new BatchOpenRequest(swap, _world.Symbol, Side.Short, 50, 2, 0, 0, 0, 0))).Problem!.Code);
        Assert.Equal(Errors.InvalidWeight, (await grain.OpenAsync(new BatchOpenRequest(swap, _world.Symbol, Side.Long, 0, 2, 0, 0, 0, 0))).Problem!.Code);
        Assert.Equal(Errors.InvalidStopLossPrice, (await grain.OpenAsync(new BatchOpenRequest(swap, _world.Symbol, Side.Long, 50, 2, 0, 11, 0, 0))).Problem!.Code);
        var perp = await _world.AgentAsync();
        Assert.Equal(Errors.LeverageTooLow, (await grain.OpenAsync(new BatchOpenRequest(perp, _world.Symbol, Side.Long, 50, 1.09m, 0, 0, 0, 0))).Problem!.Code);
        Assert.Equal(Errors.AgentNotFound, (await grain.OpenAsync(new BatchOpenRequest(Guid.NewGuid(), _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0))).Problem!.Code);

        Assert.Null(await grain.GetAsync());
        Assert.Equal(100m, (await _world.Account(account).GetAsync())!.FreeUsdc);

        // A SWAP agent trades at leverage 1 whatever it asks for.
        var swapBatch = await _world.BatchOpenAsync(swap, weight: 100, leverage: 5);
        var position = (await _world.Position(swap, account).GetAsync())!;
        Assert.Equal(1m, position.Leverage);
        Assert.Equal(1, swapBatch.Successful);
    }
}
