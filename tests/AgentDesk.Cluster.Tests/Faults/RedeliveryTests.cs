using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// Lost and duplicated messages, unreachable and broken steps, injected by <see cref="FaultFilter"/>: the outbox re-sends
/// settlements (by timer, then by reminder after a deactivation), receivers apply them once, and batches retry and resume
/// on their own, crediting fees once.
/// </summary>
[Collection(FaultyClusterCollection.Name)]
public sealed class RedeliveryTests(FaultyClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private async Task<(Guid Agent, string Account, PositionSnapshot Opened)> OpenWithStopAsync()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);
        return (agent, account, (await _world.Position(agent, account).GetAsync())!);
    }

    /// <summary>A subscriber whose next batch step fails like a bug, after holding the account's turn until the test releases it.</summary>
    private async Task<(Guid Agent, string Account, AccountFaults Faults)> AccountWhoseNextStepIsHeldAsync()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        var faults = FaultPlan.For(_world.Organization, account);
        faults.BrokenStepFailures = 1;
        faults.HoldBrokenStep = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _world.PriceAsync(100m);
        return (agent, account, faults);
    }

    [Fact]
    public async Task A_lost_settlement_is_re_sent_by_the_timer_and_a_duplicated_one_credits_once()
    {
        var (agent, account, _) = await OpenWithStopAsync();
        var faults = FaultPlan.For(_world.Organization, account);
        faults.SettlementsToDrop = 1;
        faults.DuplicateNextSettlement = true;

        await _world.PriceAsync(85m);
        await Eventually.WaitForAsync(() => Task.FromResult(faults.SettlementsDelivered), n => n >= 2, Patience, "the re-sent settlement and its duplicate");
        var view = (await _world.Account(account).GetAsync())!;
        var closed = (await _world.Position(agent, account).GetAsync())!;
        Assert.Equal(1, faults.SettlementsDropped);
        Assert.Equal(0m, view.LockedUsdc);
        Assert.Equal(100m + closed.RealizedPnlUsdc, view.FreeUsdc); // delivered twice, credited once
        Assert.True(closed.RealizedPnlUsdc < 0m);
    }

    [Fact]
    public async Task A_re_sent_settlement_that_hands_fees_back_asks_the_fee_ledger_once()
    {
        // As an order the venue refused when it triggered settles: the account takes the fees back from the ledger itself.
        var account = await _world.AccountAsync(100m);
        var feeAddress = TestData.NewAddress();
        var settlement = new Settlement("s-" + Guid.NewGuid().ToString("N"), GrainKeys.Position(Guid.NewGuid(), account, _world.Symbol),
            Guid.NewGuid().ToString(), 0m, 0m, 0m, Closed: true, [new FeeCharge("owner", feeAddress, 0.5m)]);

        // Re-sent while the first is out, as the position's outbox does every few seconds: the account asks once, so the
        // ledger's memory of refund ids never has to catch a repeat.
        await Task.WhenAll(_world.Account(account).SettleAsync(settlement), _world.Account(account).SettleAsync(settlement));
        await _world.Account(account).SettleAsync(settlement);
        Assert.Equal(1, FaultPlan.LedgerRefundsAsked(GrainKeys.FeeLedger(_world.Organization, feeAddress)));
        Assert.Equal(100.5m, (await _world.Account(account).GetAsync())!.FreeUsdc);
        Assert.Equal(-0.5m, (await fixture.Client.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(_world.Organization, feeAddress)).GetAsync()).TotalUsdc);
    }

    [Fact]
    public async Task A_fee_ledger_that_does_not_answer_gets_its_refund_from_the_next_re_sent_settlement_and_only_once()
    {
        var account = await _world.AccountAsync(100m);
        var feeAddress = TestData.NewAddress();
        var ledgerKey = GrainKeys.FeeLedger(_world.Organization, feeAddress);
        var settlement = new Settlement("s-" + Guid.NewGuid().ToString("N"), GrainKeys.Position(Guid.NewGuid(), account, _world.Symbol),
            Guid.NewGuid().ToString(), 0m, 0m, 0m, Closed: true, [new FeeCharge("owner", feeAddress, 0.5m)]);
        FaultPlan.FailLedgerRefunds(ledgerKey, 1);

        // The account applied the money and then could not reach the ledger: the position hears nothing and re-sends.
        await Assert.ThrowsAsync<TimeoutException>(() => _world.Account(account).SettleAsync(settlement));
        Assert.Equal(100.5m, (await _world.Account(account).GetAsync())!.FreeUsdc);
        await _world.Account(account).SettleAsync(settlement);
        await _world.Account(account).SettleAsync(settlement);
        Assert.Equal(2, FaultPlan.LedgerRefundsAsked(ledgerKey));
        Assert.Equal(100.5m, (await _world.Account(account).GetAsync())!.FreeUsdc);
        Assert.Equal(-0.5m, (await fixture.Client.GetGrain<IFeeLedgerGrain>(ledgerKey).GetAsync()).TotalUsdc);
    }

    [Fact]
    public async Task A_settlement_lost_until_the_position_is_deactivated_is_re_sent_by_its_reminder()
    {
        var (agent, account, _) = await OpenWithStopAsync();
        var faults = FaultPlan.For(_world.Organization, account);
        faults.DropAllSettlements = true;
        await _world.PriceAsync(85m);

        // The first send and the timer's re-send are lost; the timer registered the reminder before re-sending.
        await Eventually.WaitForAsync(() => Task.FromResult(faults.SettlementsDropped), n => n >= 2, Patience, "two lost sends");
        var position = _world.Position(agent, account);
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(position);
        faults.DropAllSettlements = false;

        // Only the reminder can bring the position back to re-send now.
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the reminder's re-send");
        var closed = (await position.GetAsync())!;
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
        Assert.True(faults.SettlementsDelivered >= 1);
    }

    [Fact]
    public async Task A_step_that_fails_like_a_bug_is_retried_in_the_same_run_and_one_that_keeps_failing_ends_as_step_failed()
    {
        var agent = await _world.AgentAsync();
        var flaky = await _world.AccountAsync(100m, agent);
        var broken = await _world.AccountAsync(100m, agent);
        var healthy = await _world.AccountAsync(100m, agent);
        FaultPlan.For(_world.Organization, flaky).BrokenStepFailures = 1;
        FaultPlan.For(_world.Organization, broken).BrokenStepFailures = int.MaxValue;
        await _world.PriceAsync(100m);

        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        Assert.Equal(BatchStatus.Completed, batch.Status);
        Assert.Equal(2, batch.Successful);
        Assert.Equal(Errors.StepFailed, batch.Results.Single(r => r.Account == broken).Problem!.Code);
        Assert.True(batch.Results.Single(r => r.Account == flaky).Success);
        Assert.True(batch.Results.Single(r => r.Account == healthy).Success);
        Assert.Equal(100m, (await _world.Account(broken).GetAsync())!.FreeUsdc); // nothing traded for it
        Assert.Null(await _world.Position(agent, broken).GetAsync());

        // ... and nothing can be: an attempt arriving late (say queued behind a dead activation) is refused.
        var late = await _world.Position(agent, broken).OpenForBatchAsync(new OpenPositionCommand($"batch:{batch.BatchId:D}", batch.BatchId, _world.Organization,
            GrainKeys.Account(_world.Organization, broken), Side.Long, 50m, [], 2m, 100m, 18, null, 0m, 0m, 0m, 0m, [], 0m, 100, null));
        Assert.Equal(Errors.StepFailed, late.Problem?.Code);
        Assert.Null(await _world.Position(agent, broken).GetAsync());
    }

    [Fact]
    public async Task Calls_queued_behind_a_call_that_fails_part_way_reach_a_fresh_activation_instead_of_failing()
    {
        var (agent, account, faults) = await AccountWhoseNextStepIsHeldAsync();

        var batch = _world.BatchOpenAsync(agent, weight: 50, leverage: 2);
        await faults.BrokenStepReached.Task.WaitAsync(Patience);
        // Reads queue behind the held step; when it fails, its activation is discarded so the state reloads from storage.
        // (Reads that arrive only after the release reach a fresh activation anyway, so the pause can only hide a failure.)
        var reads = Enumerable.Range(0, 3).Select(_ => _world.Account(account).GetAsync()).ToArray();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        faults.HoldBrokenStep!.SetResult();

        // Each read is served, not refused: as stored before the step, or after the batch's retry of it if that came first.
        foreach (var read in reads)
        {
            var free = (await read)!.FreeUsdc;
            Assert.True(free is 100m or 50m, $"read {free} USDC free");
        }
        var done = await batch;
        Assert.Equal(BatchStatus.Completed, done.Status); // the retried step was not mistaken for an unreachable silo
        Assert.True(done.Results.Single().Success, done.Results.Single().Problem?.Message);
        Assert.Equal(50m, (await _world.Account(account).GetAsync())!.FreeUsdc);
    }

    [Fact]
    public async Task While_a_batch_runs_it_tells_its_own_request_from_another_under_the_same_id()
    {
        var (agent, account, faults) = await AccountWhoseNextStepIsHeldAsync();
        var batchId = Guid.NewGuid();
        var batch = fixture.Client.GetGrain<IBatchGrain>(batchId);

        var running = _world.BatchOpenAsync(agent, weight: 50, leverage: 2, batchId: batchId);
        await faults.BrokenStepReached.Task.WaitAsync(Patience);
        // The batch's turn is held by its step: what the gateway asks before answering 202 is answered meanwhile.
        var same = new BatchOpenRequest(agent, _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0);
        Assert.Null(await batch.CheckSameRequestAsync(same, null).WaitAsync(Patience));
        Assert.Equal(Errors.IdempotencyConflict, (await batch.CheckSameRequestAsync(same with { Side = Side.Short }, null).WaitAsync(Patience))?.Code);
        Assert.Equal(Errors.IdempotencyConflict, (await batch.CheckSameRequestAsync(null, new BatchCloseRequest(agent, Guid.NewGuid())).WaitAsync(Patience))?.Code);
        Assert.Null(await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CheckSameRequestAsync(same with { Weight = 10 }, null)); // a batch not started
        faults.HoldBrokenStep!.SetResult();
        Assert.Equal(BatchStatus.Completed, (await running).Status);
    }

    [Fact]
    public async Task A_step_whose_answer_is_lost_every_time_is_recorded_as_the_trade_it_made_and_the_batch_close_reaches_it()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        FaultPlan.For(_world.Organization, account).StepAnswersToLose = int.MaxValue; // the account stores its step; the batch never hears
        await _world.PriceAsync(100m);

        var opened = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        await AssertRecordedAsTradedAsync(agent, account, opened);
    }

    [Fact]
    public async Task A_position_opened_by_a_step_its_account_never_recorded_is_locked_and_recorded_when_the_batch_gives_up()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        // The position opens, then the account fails before storing anything (as when its write fails): every attempt.
        FaultPlan.ForPosition(_world.Organization, account, agent, _world.Symbol).PositionAnswersToLose = int.MaxValue;
        await _world.PriceAsync(100m);

        var opened = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        await AssertRecordedAsTradedAsync(agent, account, opened);
    }

    [Fact]
    public async Task A_repeated_step_that_its_account_can_no_longer_size_still_records_the_position_its_first_attempt_opened()
    {
        var agent = await _world.AgentAsync();
        var other = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        Assert.True((await _world.Agent(other).SubscribeAsync(account)).IsSuccess);
        var batchId = Guid.NewGuid();
        // The first attempt opens the position and its answer is lost before the account stores anything; the batch's
        // later attempts find the account unreachable, so it waits for its reminder.
        var faults = FaultPlan.ForPosition(_world.Organization, account, agent, _world.Symbol);
        faults.PositionAnswersToLose = 1;
        faults.HoldBatchAfterLostAnswer = batchId;
        await _world.PriceAsync(100m);
        var first = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2, batchId: batchId);
        Assert.Equal(BatchStatus.Running, first.Status);
        var position = (await _world.Position(agent, account).GetAsync())!;
        Assert.Equal(PositionStatus.Open, position.Status);

        // Meanwhile another agent's batch spends the whole balance the account still shows, so when the step comes back
        // the account cannot size it any more. Its position was opened all the same, and is what gets recorded.
        var spent = await _world.BatchOpenAsync(other, weight: 100, leverage: 2);
        Assert.True(spent.Results.Single().Success);
        Assert.Equal(0m, (await _world.Account(account).GetAsync())!.FreeUsdc);
        faults.ReleaseHeldBatch();

        var done = await Eventually.WaitForAsync(() => fixture.Client.GetGrain<IBatchGrain>(batchId).GetAsync(), b => b!.Status == BatchStatus.Completed,
            Patience, "the reminder to resume the batch");
        // The resumed step reached the account (a batch that gave up instead would ask the position without sizing).
        Assert.True(faults.HeldBatchStepsAfterRelease > 0, "the resumed step never reached the account");
        var step = done!.Results.Single(r => r.Account == account);
        Assert.True(step.Success, step.Problem?.Message);
        Assert.Equal(position.PositionId, step.PositionId);
        // Both trades' margins are locked; the free balance shows what the first trade used after the second had spent it.
        var view = (await _world.Account(account).GetAsync())!;
        var second = (await fixture.Client.GetGrain<IPositionGrain>(GrainKeys.Position(other, account, _world.Symbol)).GetAsync())!;
        Assert.Equal(position.MarginUsdc + second.MarginUsdc, view.LockedUsdc);
        Assert.Equal(-(position.MarginUsdc + position.FeesUsdc), view.FreeUsdc);

        // An overdrawn account sizes nothing: a further batch is a plain refusal for it, not a failing step.
        var third = await _world.AgentAsync();
        Assert.True((await _world.Agent(third).SubscribeAsync(account)).IsSuccess);
        var refused = (await _world.BatchOpenAsync(third, weight: 50, leverage: 2)).Results.Single();
        Assert.Equal(Errors.BelowMinTradeSize, refused.Problem?.Code);

        var closed = (await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, batchId))).Value!;
        Assert.Equal(1, closed.Successful);
        Assert.Equal(PositionStatus.Closed, (await _world.Position(agent, account).GetAsync())!.Status);
    }

    /// <summary>The batch reports the position the step opened, its margin is locked, and the batch-close settles it.</summary>
    private async Task AssertRecordedAsTradedAsync(Guid agent, string account, BatchResult opened)
    {
        var position = (await _world.Position(agent, account).GetAsync())!;
        Assert.Equal(BatchStatus.Completed, opened.Status);
        var step = opened.Results.Single(r => r.Account == account);
        Assert.True(step.Success, step.Problem?.Message);
        Assert.Equal(position.PositionId, step.PositionId);
        var locked = (await _world.Account(account).GetAsync())!;
        Assert.Equal(50m, locked.LockedUsdc + locked.FeesPaidUsdc);
        Assert.Equal(50m, locked.FreeUsdc);

        var closed = (await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, opened.BatchId))).Value!;
        Assert.Equal(1, closed.Successful);
        var settled = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, Patience, "the batch-close's settlement");
        var realized = (await _world.Position(agent, account).GetAsync())!.RealizedPnlUsdc;
        Assert.Equal(100m - settled!.FeesPaidUsdc + realized, settled.FreeUsdc);
    }

    [Fact]
    public async Task A_follow_retried_after_it_broke_off_counts_the_subscriber_once_and_records_the_day()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m);
        FaultPlan.For(_world.Organization, account).SubscriptionAddsToFail = 1;

        // The agent took a slot, then the account did not answer: the client sees a failure and follows again.
        await Assert.ThrowsAnyAsync<Exception>(() => _world.Agent(agent).SubscribeAsync(account));
        Assert.True((await _world.Agent(agent).SubscribeAsync(account)).IsSuccess);
        Assert.True((await _world.Agent(agent).SubscribeAsync(account)).IsSuccess); // and once more: the same follow

        Assert.Equal(1, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
        Assert.Equal([account], await SubscriberPages.ReadAllAsync(fixture.Client, agent));
        var days = await fixture.Client.GetGrain<Contracts.History.ITradeHistoryGrain>(0).SubscribersAsync(_world.Organization, agent, null, null);
        Assert.Equal(1, Assert.Single(days).Subscribers);

        Assert.True((await _world.Agent(agent).UnsubscribeAsync(account)).IsSuccess);
        Assert.Equal(0, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
        Assert.Equal(0, Assert.Single(await fixture.Client.GetGrain<Contracts.History.ITradeHistoryGrain>(0).SubscribersAsync(_world.Organization, agent, null, null)).Subscribers);
    }

    [Fact]
    public async Task An_unfollow_that_broke_off_part_way_trades_nothing_more_for_the_account_and_its_retry_finishes_it()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        var stays = await _world.AccountAsync(100m, agent);
        FaultPlan.For(_world.Organization, account).SubscriptionRemovalsToFail = 1;

        // The page let the account go, then the account did not answer: the client sees a failure.
        await Assert.ThrowsAnyAsync<Exception>(() => _world.Agent(agent).UnsubscribeAsync(account));
        await _world.PriceAsync(100m);
        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);
        Assert.Equal([stays], batch.Results.Select(r => r.Account)); // the account the client was unfollowing is not traded for

        // The retry finds the account still following and finishes: the same answer as an unfollow that never broke off.
        var retried = await _world.Agent(agent).UnsubscribeAsync(account);
        Assert.True(retried.IsSuccess, retried.Problem?.Message);
        Assert.Empty((await _world.Account(account).GetAsync())!.Subscriptions);
        Assert.Equal(1, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
        Assert.Equal(Errors.NotSubscribed, (await _world.Agent(agent).UnsubscribeAsync(account)).Problem!.Code);
    }

    [Fact]
    public async Task Pausing_the_agent_stops_a_running_batch_open_from_reaching_the_subscribers_left()
    {
        var agent = await _world.AgentAsync();
        var reached = await _world.AccountAsync(100m, agent);
        var later = await _world.AccountAsync(100m, agent);
        var unreachable = FaultPlan.For(_world.Organization, later);
        unreachable.TransientStepFailures = int.MaxValue; // until the pause is stored, whenever the reminder comes
        await _world.PriceAsync(100m);

        var id = Guid.NewGuid();
        var first = (await fixture.Client.GetGrain<IBatchGrain>(id).OpenAsync(new BatchOpenRequest(agent, _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0))).Value!;
        Assert.Equal((BatchStatus.Running, 1), (first.Status, first.Successful));
        Assert.True((await _world.Agent(agent).SetPausedAsync(true, "risk")).IsSuccess);
        unreachable.TransientStepFailures = 0;

        // The reminder resumes the batch: the subscriber it had not reached is not traded for.
        var done = await Eventually.WaitForAsync(() => fixture.Client.GetGrain<IBatchGrain>(id).GetAsync(), b => b!.Status == BatchStatus.Completed,
            Patience, "the reminder to conclude the batch");
        var refused = done!.Results.Single(r => r.Account == later);
        Assert.Equal((false, Errors.AgentPaused), (refused.Success, refused.Problem!.Code));
        Assert.Null(await _world.Position(agent, later).GetAsync());
        Assert.Equal(100m, (await _world.Account(later).GetAsync())!.FreeUsdc);
        Assert.True(done.Results.Single(r => r.Account == reached).Success);
    }

    [Fact]
    public async Task A_resumed_batch_open_waits_for_a_fresh_price_instead_of_opening_at_a_stale_one()
    {
        // A cluster of its own whose prices are stale after a second.
        await using var cluster = await FaultyClusterFixture.StartAsync(services => services.Configure<Grains.Options.PriceOptions>(o => o.MaxAgeSeconds = 1));
        var world = new Scenario(cluster.Client);
        var agent = await world.AgentAsync();
        var reached = await world.AccountAsync(100m, agent);
        var later = await world.AccountAsync(100m, agent);
        FaultPlan.For(world.Organization, later).TransientStepFailures = 3; // every attempt of the first run
        await world.PriceAsync(100m);
        var id = Guid.NewGuid();
        var first = (await cluster.Client.GetGrain<IBatchGrain>(id).OpenAsync(new BatchOpenRequest(agent, world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0))).Value!;
        Assert.Equal((BatchStatus.Running, 1), (first.Status, first.Successful));

        // The oracle stops; the reminder resumes the batch (every 2 s here) on a stale price: nothing opens.
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        Assert.Equal(BatchStatus.Running, (await cluster.Client.GetGrain<IBatchGrain>(id).GetAsync())!.Status);
        Assert.Null(await world.Position(agent, later).GetAsync());

        // A live oracle again, ticking faster than prices go stale: the next resume opens, at its price. (One tick alone
        // would be stale again within a second, before a resume two seconds away could see it.)
        var done = await Eventually.WaitForAsync(async () =>
        {
            await world.PriceAsync(110m);
            await Task.Delay(200);
            return await cluster.Client.GetGrain<IBatchGrain>(id).GetAsync();
        }, b => b!.Status == BatchStatus.Completed, Patience, "the resume on a fresh price");
        Assert.Equal(2, done!.Successful);
        Assert.InRange((await world.Position(agent, later).GetAsync())!.EntryPrice, 110m, 111m);
    }

    [Fact]
    public async Task A_client_re_sending_its_batch_while_a_subscriber_is_unreachable_adds_no_runs_and_spends_no_resumes()
    {
        var agent = await _world.AgentAsync();
        var accounts = new[] { await _world.AccountAsync(100m, agent), await _world.AccountAsync(100m, agent) };
        var unreachable = FaultPlan.For(_world.Organization, accounts[0]);
        unreachable.TransientStepFailures = 3; // every attempt of the first run
        await _world.PriceAsync(100m);

        var id = Guid.NewGuid();
        var request = new BatchOpenRequest(agent, _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0);
        Assert.Equal(BatchStatus.Running, (await fixture.Client.GetGrain<IBatchGrain>(id).OpenAsync(request)).Value!.Status);
        // More re-sends than the batch has resumes, at once: they answer the batch as it stands and run nothing more, so they
        // neither wait out the unreachable silo again nor spend what the reminder needs.
        for (var retry = 0; retry <= AgentDesk.Grains.Batches.BatchGrain.MaxResumes; retry++)
            Assert.Equal(BatchStatus.Running, (await fixture.Client.GetGrain<IBatchGrain>(id).OpenAsync(request)).Value!.Status);
        Assert.Equal(3, unreachable.StepsFailed);

        var done = await Eventually.WaitForAsync(() => fixture.Client.GetGrain<IBatchGrain>(id).GetAsync(), b => b!.Status == BatchStatus.Completed,
            Patience, "the reminder to resume the batch");
        Assert.Equal(2, done!.Successful);
        Assert.True(done.Results.All(r => r.Success));
    }

    [Fact]
    public async Task A_batch_with_an_unreachable_subscriber_completes_by_its_reminder_without_a_client_retry_and_credits_fees_once()
    {
        var fee = new AgentFee("owner_flat", 0.1m, TestData.NewAddress(), FeeType.Flat);
        var agent = await _world.AgentAsync(fees: [fee]);
        var accounts = new[] { await _world.AccountAsync(100m, agent), await _world.AccountAsync(100m, agent), await _world.AccountAsync(100m, agent) };
        var unreachable = FaultPlan.For(_world.Organization, accounts[0]);
        unreachable.TransientStepFailures = 3; // every attempt of the first run
        await _world.PriceAsync(100m);

        var id = Guid.NewGuid();
        var request = new BatchOpenRequest(agent, _world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0);
        var first = (await fixture.Client.GetGrain<IBatchGrain>(id).OpenAsync(request)).Value!;
        Assert.Equal(BatchStatus.Running, first.Status); // the run ended with one subscriber still to do
        Assert.Equal(2, first.Successful);
        // A batch-close now would close only what is open so far and never reach the rest: refused until the batch completes.
        var early = await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, id));
        Assert.Equal(Errors.BatchRunning, early.Problem?.Code);

        var done = await Eventually.WaitForAsync(() => fixture.Client.GetGrain<IBatchGrain>(id).GetAsync(), b => b!.Status == BatchStatus.Completed,
            Patience, "the reminder to resume the batch");
        Assert.Equal(3, done!.Successful);
        Assert.Equal(3, unreachable.StepsFailed);

        // A client retry of the completed batch changes nothing, and the fee ledger holds each fee once.
        var retried = (await fixture.Client.GetGrain<IBatchGrain>(id).OpenAsync(request)).Value!;
        Assert.Equal(3, retried.Successful);
        var ledger = await fixture.Client.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(_world.Organization, fee.FeeAddress)).GetAsync();
        Assert.Equal(0.3m, ledger.TotalUsdc);
        foreach (var account in accounts) Assert.Equal(0.1m, (await _world.Account(account).GetAsync())!.FeesPaidUsdc);
    }
}
