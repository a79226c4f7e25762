using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.History;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Grains.Options;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Events;

/// <summary>What grains record as they work, as a consumer of the organisation's event log reads it.</summary>
[Collection(ClusterCollection.Name)]
public sealed class EventTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client, TestData.NewOrganization("Ev"));

    private Task<IReadOnlyList<EventRecord>> WaitForAsync(Func<IReadOnlyList<EventRecord>, bool> done, string what) =>
        EventLogReader.WaitForAsync(fixture.Client, _world.Organization, done, what);

    [Fact]
    public async Task A_batch_open_records_its_start_every_fill_and_its_completion_with_increasing_ids()
    {
        var agent = await _world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < 5; i++) accounts.Add(await _world.AccountAsync(100m, agent));
        await _world.PriceAsync(100m);
        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);

        var events = await WaitForAsync(e => e.Count(EventTypes.BatchCompleted) == 1 && e.Count(EventTypes.PositionFilled) == 5, "the batch's events");
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        Assert.All(events, e => Assert.Equal(_world.Organization, e.Organization));

        var started = Assert.Single(events, e => e.Type == EventTypes.BatchStarted).Data();
        Assert.Equal(batch.BatchId, started["batchId"]!.GetValue<Guid>());
        Assert.Equal(5, started["subscribers"]!.GetValue<int>());
        Assert.Equal("running", started["status"]!.GetValue<string>());
        var completed = Assert.Single(events, e => e.Type == EventTypes.BatchCompleted);
        Assert.Equal(agent, completed.AgentId);
        Assert.Equal(5, completed.Data()["successful"]!.GetValue<int>());
        Assert.Equal("completed", completed.Data()["status"]!.GetValue<string>());

        var fills = events.Where(e => e.Type == EventTypes.PositionFilled).ToList();
        Assert.Equal(accounts.Order(), fills.Select(f => f.Account!).Order());
        foreach (var fill in fills)
        {
            var data = fill.Data();
            var position = await _world.Position(agent, fill.Account!).GetAsync();
            Assert.Equal(agent, fill.AgentId);
            Assert.Equal(_world.Symbol, fill.Symbol);
            Assert.Equal(position!.PositionId, data["positionId"]!.GetValue<string>());
            Assert.Equal("open", data["fill"]!.GetValue<string>());
            Assert.Equal(position.Size, data["size"]!.GetValue<decimal>());
            Assert.Equal(position.EntryPrice, data["price"]!.GetValue<decimal>());
            Assert.Equal(batch.BatchId, data["batchId"]!.GetValue<Guid>());
            Assert.Equal(position.OpenTransaction!.Hash, data["transaction"]!["hash"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task A_stop_loss_exit_carries_the_rule_and_everything_a_closed_trade_row_needs_then_the_settlement_follows()
    {
        var agent = await _world.AgentAsync(fees: [new Domain.Agents.AgentFee("owner", 1m, TestData.NewAddress(), Domain.Agents.FeeType.Flat)]);
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);
        await _world.PriceAsync(89m);

        var events = await WaitForAsync(e => e.Count(EventTypes.PositionExited) == 1 && e.Count(EventTypes.PositionSettled) == 1, "the exit and its settlement");
        var closed = (await _world.Position(agent, account).GetAsync())!;
        var exit = Assert.Single(events, e => e.Type == EventTypes.PositionExited);
        var data = exit.Data();
        Assert.Equal((agent, account, _world.Symbol), (exit.AgentId!.Value, exit.Account!, exit.Symbol!));
        Assert.Equal("stop_loss", data["reason"]!.GetValue<string>());
        Assert.Null(data["ladderIndex"]);
        Assert.Equal(closed.PositionId, data["positionId"]!.GetValue<string>());
        Assert.Equal(closed.Exits[0].HistoricalSwapId, data["historicalSwapId"]!.GetValue<string>());
        Assert.Equal("LONG", data["side"]!.GetValue<string>());
        Assert.Equal(closed.EntryPrice, data["entryPrice"]!.GetValue<decimal>());
        Assert.Equal(closed.ExitPrice, data["exitPrice"]!.GetValue<decimal>());
        Assert.Equal(closed.OriginalSize, data["sizeClosed"]!.GetValue<decimal>());
        Assert.Equal(0m, data["sizeRemaining"]!.GetValue<decimal>());
        Assert.True(data["closed"]!.GetValue<bool>());
        Assert.Equal(closed.RealizedPnlUsdc, data["realizedPnlUsd"]!.GetValue<decimal>());
        Assert.Equal(1m, data["feesUsd"]!.GetValue<decimal>());
        Assert.Equal(closed.OpenTransaction!.Hash, data["openTransaction"]!["hash"]!.GetValue<string>());
        Assert.Equal(closed.Exits[0].Transaction.Hash, data["closeTransaction"]!["hash"]!.GetValue<string>());
        Assert.True(data["openedAt"]!.GetValue<DateTimeOffset>() >= closed.CreatedAt.AddMilliseconds(-1));
        Assert.True(data["closedAt"]!.GetValue<DateTimeOffset>() >= data["openedAt"]!.GetValue<DateTimeOffset>());

        var settled = Assert.Single(events, e => e.Type == EventTypes.PositionSettled);
        Assert.True(settled.Id > exit.Id);
        Assert.Equal("account", settled.Data()["to"]!.GetValue<string>());
        Assert.Equal(closed.RealizedPnlUsdc, settled.Data()["realizedPnlUsd"]!.GetValue<decimal>());
        var view = (await _world.Account(account).GetAsync())!;
        Assert.Equal(view.FreeUsdc, settled.Data()["freeUsdc"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Ladder_exits_name_the_rung_that_fired_and_only_the_last_sale_reports_the_fees()
    {
        var agent = await _world.AgentAsync();
        var account = TestData.NewAddress();
        await _world.PriceAsync(100m);
        var opened = await _world.Position(agent, account).OpenAsync(_world.Open("ladder", account, 100m, 100m,
        [
            new ExitRule(ExitTriggerType.TakeProfit, 500, 5000),
            new ExitRule(ExitTriggerType.StopLoss, -500, 10_000),
        ]));
        Assert.True(opened.IsSuccess, opened.Problem?.Message);
        await _world.PriceAsync(106m);
        await WaitForAsync(e => e.Count(EventTypes.PositionExited) == 1, "the take-profit rung");
        await _world.PriceAsync(94m);

        var exits = (await WaitForAsync(e => e.Count(EventTypes.PositionExited) == 2, "the stop-loss rung"))
            .Where(e => e.Type == EventTypes.PositionExited).Select(e => e.Data()).ToList();
        Assert.Equal(["ladder_take_profit", "ladder_stop_loss"], exits.Select(d => d["reason"]!.GetValue<string>()));
        Assert.Equal([0, 1], exits.Select(d => d["ladderIndex"]!.GetValue<int>()));
        Assert.Equal([0, 1], exits.Select(d => d["exitIndex"]!.GetValue<int>()));
        Assert.Equal([false, true], exits.Select(d => d["closed"]!.GetValue<bool>()));
        Assert.Equal(opened.Value!.Size, exits.Sum(d => d["sizeClosed"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task Pausing_and_resuming_an_agent_are_recorded_with_who_did_it()
    {
        var agent = await _world.AgentAsync();
        Assert.True((await _world.Agent(agent).SetPausedAsync(true, "key-1")).IsSuccess);
        Assert.True((await _world.Agent(agent).SetPausedAsync(true, "key-1")).IsSuccess); // no change: nothing to report
        Assert.True((await _world.Agent(agent).SetPausedAsync(false, "key-2")).IsSuccess);

        var events = await WaitForAsync(e => e.Count(EventTypes.AgentResumed) == 1, "the resume");
        Assert.Equal([EventTypes.AgentPaused, EventTypes.AgentResumed], events.Select(e => e.Type));
        Assert.Equal(["key-1", "key-2"], events.Select(e => e.Data()["by"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(agent, e.AgentId));
    }

    [Fact]
    public async Task A_batch_close_records_each_exit_as_batch_close_and_a_pending_order_as_cancelled()
    {
        var agent = await _world.AgentAsync();
        var filled = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        var open = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2);
        var orders = new Scenario(fixture.Client, _world.Organization);
        var orderAgent = await orders.AgentAsync();
        var waiting = await orders.AccountAsync(100m, orderAgent);
        await orders.PriceAsync(100m);
        var placed = await orders.BatchOpenAsync(orderAgent, weight: 50, leverage: 2, trigger: 80m);

        var close = await fixture.Client.GetGrain<Contracts.Batches.IBatchGrain>(Guid.NewGuid())
            .CloseAsync(new Contracts.Batches.BatchCloseRequest(agent, open.BatchId));
        Assert.True(close.IsSuccess);
        var cancel = await fixture.Client.GetGrain<Contracts.Batches.IBatchGrain>(Guid.NewGuid())
            .CloseAsync(new Contracts.Batches.BatchCloseRequest(orderAgent, placed.BatchId));
        Assert.True(cancel.IsSuccess);

        var events = await WaitForAsync(e => e.Count(EventTypes.PositionExited) == 1 && e.Count(EventTypes.PositionCancelled) == 1
            && e.Count(EventTypes.BatchCompleted) == 4, "the close and the cancellation");
        var exit = Assert.Single(events, e => e.Type == EventTypes.PositionExited);
        Assert.Equal(filled, exit.Account);
        Assert.Equal("batch_close", exit.Data()["reason"]!.GetValue<string>());
        var cancelled = Assert.Single(events, e => e.Type == EventTypes.PositionCancelled);
        Assert.Equal(waiting, cancelled.Account);
        Assert.Equal(80m, cancelled.Data()["triggerPrice"]!.GetValue<decimal>());
        Assert.Equal(2, events.Count(e => e.Type == EventTypes.BatchCompleted && e.Data()["kind"]!.GetValue<string>() == "close"));
        Assert.Equal(0, events.Count(e => e.Type == EventTypes.PositionFilled && e.Account == waiting)); // an order that never filled
    }

    [Fact]
    public async Task The_log_stores_a_source_key_once_and_numbers_concurrent_appends_without_gaps_in_storage_order()
    {
        var organization = TestData.NewOrganization("Log");
        var log = fixture.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        EventDraft Draft(string key) => new(organization, key, EventTypes.AgentPaused, Guid.NewGuid(), null, null, DateTimeOffset.UtcNow, """{"paused":true,"by":"t"}""");

        // 40 senders at once, each appending 25 drafts; then every draft again (a re-send after a lost answer).
        var drafts = Enumerable.Range(0, 40).Select(s => Enumerable.Range(0, 25).Select(i => Draft($"k:{s}:{i}")).ToArray()).ToArray();
        await Task.WhenAll(drafts.Select(batch => log.AppendAsync(batch)));
        await Task.WhenAll(drafts.Select(batch => log.AppendAsync(batch)));

        var events = await EventLogReader.AllAsync(fixture.Client, organization);
        Assert.Equal(1000, events.Count);
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), events.Select(e => e.Id));
        Assert.Equal(1000, events.Select(e => e.SourceKey).Distinct().Count());
        // Each sender's drafts keep their order among themselves.
        foreach (var batch in drafts)
            Assert.Equal(batch.Select(d => d.SourceKey), events.Where(e => batch.Any(d => d.SourceKey == e.SourceKey)).Select(e => e.SourceKey));
        Assert.Equal(1000, await log.GetLastIdAsync());
    }

    [Fact]
    public async Task A_reader_that_read_past_a_re_sent_event_misses_nothing_stored_after_the_log_wakes_again()
    {
        var organization = TestData.NewOrganization("Reload");
        var log = fixture.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        EventDraft Draft(string key) => new(organization, key, EventTypes.AgentPaused, null, null, null, DateTimeOffset.UtcNow, "{}");
        await log.AppendAsync([Draft("a"), Draft("b")]);
        // A grain re-sends an event the log already holds (its confirmation was lost), and a reader catches up.
        await log.AppendAsync([Draft("b")]);
        var cursor = (await log.ReadAsync(0, 100)).Through;
        Assert.Equal(2, cursor);

        // The log moves (an idle deactivation, a silo restart) and numbers on from what the store holds.
        await fixture.Cluster.DeactivateAsync(log);
        await fixture.Cluster.WaitForDeactivationAsync(log);
        await log.AppendAsync([Draft("c")]);

        var page = await log.ReadAsync(cursor, 100);
        Assert.Equal(["c"], page.Events.Select(e => e.SourceKey));
        Assert.Equal(3, page.Events[0].Id);
    }

    [Fact]
    public async Task A_reader_waiting_on_the_log_gets_the_next_event_as_soon_as_it_is_stored()
    {
        var organization = TestData.NewOrganization("Wait");
        var log = fixture.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        var waiting = log.WaitAsync(0, 10, TimeSpan.FromSeconds(20));
        await log.GetLastIdAsync(); // answered after the wait arrived: the wait is parked before anything is appended
        Assert.False(waiting.IsCompleted);
        var started = DateTime.UtcNow;
        await log.AppendAsync([new EventDraft(organization, "only", EventTypes.AgentPaused, null, null, null, DateTimeOffset.UtcNow, "{}")]);
        var page = await waiting;
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5));
        Assert.Equal("only", Assert.Single(page.Events).SourceKey);
        Assert.Equal(1, page.Through);

        var empty = await log.WaitAsync(1, 10, TimeSpan.FromMilliseconds(200));
        Assert.Empty(empty.Events);
        Assert.Equal(1, empty.Through);
    }

    [Fact]
    public async Task A_draft_older_than_the_retention_window_is_not_stored()
    {
        var organization = TestData.NewOrganization("Old");
        var log = fixture.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        await log.AppendAsync([
            new EventDraft(organization, "old", EventTypes.AgentPaused, null, null, null, DateTimeOffset.UtcNow.AddDays(-8), "{}"),
            new EventDraft(organization, "new", EventTypes.AgentPaused, null, null, null, DateTimeOffset.UtcNow, "{}"),
        ]);
        Assert.Equal(["new"], (await EventLogReader.AllAsync(fixture.Client, organization)).Select(e => e.SourceKey));
    }

    [Fact]
    public async Task A_trade_reported_by_a_draft_older_than_the_retention_window_still_reaches_the_history()
    {
        // A cancelled order whose event (and so its history row) could not be stored for longer than the window.
        var organization = TestData.NewOrganization("OldTrade");
        var positionId = Guid.NewGuid().ToString();
        var old = new EventDraft(organization, $"cancel:{positionId}", EventTypes.PositionCancelled, Guid.NewGuid(), TestData.NewAddress(), "SOL",
            DateTimeOffset.UtcNow.AddDays(-8), EventJson.Data(new CancelEventData(positionId, "batch_close", "LONG", 90m, 10m, Guid.NewGuid())));
        await fixture.Client.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization)).AppendAsync([old]);

        Assert.Empty(await EventLogReader.AllAsync(fixture.Client, organization)); // not an event any more
        var trade = await fixture.Client.GetGrain<ITradeHistoryGrain>(0).GetAsync(organization, $"cancel-{positionId}");
        Assert.Equal((positionId, 90m), (trade!.PositionId, trade.OpenPrice));
    }

    [Fact]
    public async Task Signed_intents_are_recorded_accepted_or_refused_with_their_code_and_strangers_junk_is_not()
    {
        var (key, signer) = TestData.NewKey();
        var agent = await _world.AgentAsync(signer: signer);
        var vault = await _world.VaultAsync();
        Assert.True((await _world.Agent(agent).BindVaultAsync(vault.VaultId, 10_000m)).IsSuccess);
        await _world.PriceAsync(100m);
        var domain = new IntentDomainOptions().ToDomain();
        IntentRequest Signed(long nonce, decimal usdc, string signWith)
        {
            var request = new IntentRequest(IntentKind.OpenPosition, _world.Symbol, usdc, 0, 0, 0, 100, [new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)],
                DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), nonce, "");
            var intent = IntentStructs.Build(request, agent, vault.Address, vault.Tokens.Single()).Unwrap();
            return request with { Signature = NethereumIntentSignatures.Sign(domain, intent, signWith) };
        }

        var (stranger, _) = TestData.NewKey();
        Assert.Equal(Errors.InvalidSignature, (await _world.Agent(agent).ExecuteIntentAsync(Signed(0, 100m, stranger))).Problem!.Code);
        var tooEarly = Signed(3, 100m, key);
        Assert.Equal(Errors.NonceMismatch, (await _world.Agent(agent).ExecuteIntentAsync(tooEarly)).Problem!.Code);
        Assert.Equal(Errors.NonceMismatch, (await _world.Agent(agent).ExecuteIntentAsync(tooEarly)).Problem!.Code); // the same refusal again is one event
        // A copy spelt in upper case (anyone can replay a relayed signature) is the same signed intent: still one event.
        var shouted = tooEarly with { Signature = "0x" + tooEarly.Signature[2..].ToUpperInvariant() };
        Assert.Equal(Errors.NonceMismatch, (await _world.Agent(agent).ExecuteIntentAsync(shouted)).Problem!.Code);
        var opened = await _world.Agent(agent).ExecuteIntentAsync(Signed(0, 100m, key));
        Assert.True(opened.IsSuccess, opened.Problem?.Message);

        var events = await WaitForAsync(e => e.Count(EventTypes.IntentAccepted) == 1 && e.Count(EventTypes.PositionFilled) == 1, "the intent's events");
        var refused = Assert.Single(events, e => e.Type == EventTypes.IntentRefused);
        Assert.Equal("nonce_mismatch", refused.Data()["code"]!.GetValue<string>());
        Assert.Equal("admission", refused.Data()["stage"]!.GetValue<string>());
        Assert.Equal(3, refused.Data()["nonce"]!.GetValue<long>());
        var accepted = Assert.Single(events, e => e.Type == EventTypes.IntentAccepted);
        Assert.Equal(opened.Value!.Position.PositionId, accepted.Data()["positionId"]!.GetValue<string>());
        Assert.Equal(opened.Value.Position.Transaction!.Hash, accepted.Data()["transaction"]!["hash"]!.GetValue<string>());
        Assert.Equal(vault.Address, accepted.Account);
        var fill = Assert.Single(events, e => e.Type == EventTypes.PositionFilled);
        Assert.Equal(vault.Address, fill.Account);
        Assert.Equal(opened.Value.Position.PositionId, fill.Data()["positionId"]!.GetValue<string>());
    }
}
