using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Positions;
using AgentDesk.Silo.Persistence;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using JsonGrainStorageSerializer = AgentDesk.Silo.Persistence.JsonGrainStorageSerializer;
using static AgentDesk.Cluster.Tests.Persistence.StorageJson;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// A position remembers each command's answer, so a retry answers the same without trading again, and every activation
/// reads all it remembers. A subscriber's position takes a batch open and a batch close per batch cycle for as long as its
/// account follows the agent: what it keeps for them must stay small, and a retry must still answer as the first call did.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RememberedAnswersTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);

    private static GrainId PositionId(string key) => GrainId.Create("position", key);

    [Fact]
    public async Task Through_many_batch_cycles_a_subscriber_keeps_only_answers_a_batch_may_still_ask_for_and_they_answer_as_first()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(1_000m, agent);
        BatchResult open = null!, close = null!;
        for (var cycle = 0; cycle < 70; cycle++)
        {
            await _world.PriceAsync(100m + cycle);
            open = await _world.BatchOpenAsync(agent, weight: 10, leverage: 2);
            Assert.Equal(1, open.Successful);
            await HeardCompletedAsync(agent, open.BatchId);
            close = await _world.BatchCloseAsync(agent, open.BatchId);
            Assert.Equal(1, close.Successful);
            await HeardCompletedAsync(agent, close.BatchId);
        }

        // Each completed batch told the agent, which keeps the last 8 on the symbol, and each batch told the account and the
        // position of the ones before it, which nothing retries any more. The last open's receipt went when the close came
        // (which runs only once the open has completed); only the last close, which no later batch has reported, is kept.
        var completed = await _world.Agent(agent).GetCompletedBatchesAsync(_world.Symbol);
        Assert.Equal(8, completed.Count);
        Assert.Equal([open.BatchId, close.BatchId], completed.TakeLast(2));
        Assert.Empty(await _world.Agent(agent).GetCompletedBatchesAsync(TestData.NewSymbol()));
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        await Eventually.WaitForAsync(() => PositionRowAsync(key), r => r.Unsettled.Count == 0, what: "the last close's settlement to be confirmed");
        var row = await PositionRowAsync(key);
        Assert.Empty(row.BatchOpens.Entries);
        Assert.Equal([BatchCommandIds.For(close.BatchId)], row.CloseReceipts.Entries.Keys);
        Assert.Equal(64, row.CompletedBatches.Count);
        Assert.Equal(BatchCommandIds.For(open.BatchId), row.CompletedBatches.Entries.Keys.Last());
        var accountRow = await AccountRowAsync(account);
        Assert.Equal([open.BatchId.ToString("D")], accountRow.Steps.Entries.Keys);
        Assert.Equal(64, accountRow.CompletedBatches.Count);
        // Every activation reads this row. Remembering each batch's whole position made it about 280 KB after 64 cycles.
        Assert.InRange(new JsonGrainStorageSerializer().Serialize(row).ToMemory().Length, 1, 12 * 1024); // 8.5 KB measured

        // A step of a batch that completed and was forgotten, arriving late at the account, is refused and charges nothing.
        var balance = (await _world.Account(account).GetAsync())!;
        var forgotten = Guid.Parse(accountRow.CompletedBatches.Entries.Keys.Last());
        var late = await _world.Account(account).OpenFromBatchAsync(
            new BatchOpenStep(forgotten, agent, _world.Symbol, Side.Long, 10, 2, [], FeeCaps.Default, 170m, 8, null, 0, 0, 0, 0));
        Assert.Equal((false, Errors.BatchCompleted), (late.Success, late.Problem!.Code));
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);
        // Refused by the account itself, which records nothing for it (its position need not have heard of the batch).
        Assert.DoesNotContain(forgotten.ToString("D"), (await AccountRowAsync(account)).Steps.Entries.Keys);

        // The agent believes only a batch's own stored status: neither a batch it does not know nor another agent's counts.
        var other = await _world.AgentAsync();
        await _world.Agent(agent).BatchCompletedAsync(Guid.NewGuid());
        await _world.Agent(other).BatchCompletedAsync(close.BatchId);
        Assert.Equal(completed, await _world.Agent(agent).GetCompletedBatchesAsync(_world.Symbol));
        Assert.Empty(await _world.Agent(other).GetCompletedBatchesAsync(_world.Symbol));

        // The last close, retried (a resumed batch whose answer was lost), answers what it answered and trades nothing.
        balance = (await _world.Account(account).GetAsync())!;
        var position = _world.Position(agent, account);
        var before = (await position.GetAsync())!;
        var closed = close.Results.Single();
        var closeCommand = new ClosePositionCommand(BatchCommandIds.For(close.BatchId), CloseReasons.BatchClose, open.BatchId, null, 170m);
        var reclosed = (await position.CloseAsync(closeCommand)).Value!;
        Assert.False(reclosed.Skipped);
        Assert.Equal(closed.PositionId, reclosed.PositionId);
        Assert.Equal(PositionStatus.Closed, reclosed.Status);
        Assert.Equal(closed.Transaction, reclosed.Transaction);
        AssertSamePosition(before, (await position.GetAsync())!);
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);

        // So does the next batch's open, retried; and with it the close before is forgotten.
        var next = await _world.BatchOpenAsync(agent, weight: 10, leverage: 2);
        await HeardCompletedAsync(agent, next.BatchId);
        var opened = next.Results.Single();
        balance = (await _world.Account(account).GetAsync())!;
        before = (await position.GetAsync())!;
        var openCommand = _world.Open(BatchCommandIds.For(next.BatchId), account, 10m, 170m) with { BatchId = next.BatchId };
        var reopened = (await position.OpenForBatchAsync(openCommand)).Value!;
        AssertSame(new OpenReceipt(opened.PositionId!, PositionStatus.Open, opened.CollateralUsdc, opened.Fees, opened.Transaction), reopened);
        AssertSamePosition(before, (await position.GetAsync())!);
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);
        row = await PositionRowAsync(key);
        Assert.Equal([BatchCommandIds.For(next.BatchId)], row.BatchOpens.Entries.Keys);
        Assert.Empty(row.CloseReceipts.Entries);
    }

    [Fact]
    public async Task A_position_forgets_a_batch_answer_only_once_a_later_command_reports_that_batch_completed()
    {
        var account = TestData.NewAddress();
        var position = fixture.Client.GetGrain<IPositionGrain>(GrainKeys.Position(Guid.NewGuid(), account, _world.Symbol));
        var (openBatch, closeBatch) = (Guid.NewGuid(), Guid.NewGuid());
        var open = _world.Open(BatchCommandIds.For(openBatch), account, 10m, 100m) with { BatchId = openBatch };
        var first = (await position.OpenForBatchAsync(open)).Value!;

        // A close that reports other batches completed leaves the open's answer: a retry of it answers the same.
        var close = new ClosePositionCommand(BatchCommandIds.For(closeBatch), CloseReasons.BatchClose, openBatch, null, 100m, [Guid.NewGuid()]);
        Assert.False((await position.CloseAsync(close)).Value!.Skipped);
        var closedPosition = (await position.GetAsync())!;
        AssertSame(first, (await position.OpenForBatchAsync(open)).Value!);
        AssertSamePosition(closedPosition, (await position.GetAsync())!);

        // The next batch's open reports both completed: both answers go, and only its own is kept.
        var nextBatch = Guid.NewGuid();
        var next = _world.Open(BatchCommandIds.For(nextBatch), account, 10m, 100m) with { BatchId = nextBatch, CompletedBatches = [openBatch, closeBatch] };
        Assert.True((await position.OpenForBatchAsync(next)).IsSuccess);
        var row = await PositionRowAsync(position.GetPrimaryKeyString());
        Assert.Equal([BatchCommandIds.For(nextBatch)], row.BatchOpens.Entries.Keys);
        Assert.Empty(row.CloseReceipts.Entries);

        // A command of a completed batch that still arrives (sent before the batch completed, delivered after) is refused:
        // the position the open opened was closed, and a second one must not open in its place, nor the close close another.
        var live = (await position.GetAsync())!;
        Assert.Equal(Errors.BatchCompleted, (await position.OpenForBatchAsync(open)).Problem!.Code);
        Assert.Equal(Errors.BatchCompleted, (await position.ConcludeOpenAsync(open.OpenId, new Rejection(Errors.StepFailed, "given up"))).Problem!.Code);
        Assert.Equal(Errors.BatchCompleted, (await position.CloseAsync(close with { OnlyIfOpenedByBatch = nextBatch })).Problem!.Code);
        AssertSamePosition(live, (await position.GetAsync())!);
    }

    [Fact]
    public async Task A_position_row_stored_before_the_receipts_answers_its_retries_as_it_did_and_is_stored_small_at_its_next_write()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(1_000m, agent);
        await _world.PriceAsync(100m);
        var open = await _world.BatchOpenAsync(agent, weight: 10, leverage: 2);
        var position = _world.Position(agent, account);
        var openSnapshot = (await position.GetAsync())!;
        await _world.PriceAsync(110m);
        var close = await _world.BatchCloseAsync(agent, open.BatchId);
        var closedSnapshot = (await position.GetAsync())!;
        var sale = closedSnapshot.Exits.Single();

        // The row as a version before the receipts stored it: the batch's open with the opens, whole; the close with the
        // reduces (here an intent's, made up for the test), whole, under "closes"; none of the receipts' memories. Written
        // once the settlement is confirmed (no re-send reminder wakes the position) and the position is gone.
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        await Eventually.WaitForAsync(() => PositionRowAsync(key), r => r.Unsettled.Count == 0, what: "the close's settlement to be confirmed");
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(position);
        var row = new GrainState<PositionGrainState>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), row);
        var closeOutcome = new CloseOutcome(false, null, closedSnapshot, sale.RealizedPnlUsdc, sale.Price, sale.Transaction, sale.HistoricalSwapId);
        var reduceOutcome = closeOutcome with { Position = closedSnapshot with { CloseReason = CloseReasons.Reduce }, HistoricalSwapId = "swap-reduce" };
        var older = JsonSerializer.SerializeToNode(row.State!, JsonGrainStorageSerializer.Options)!.AsObject();
        foreach (var memory in new[] { "batchOpens", "closeReceipts", "completedBatches", "intentOpens", "intentReductions", "intentChanges" })
            Assert.True(older.Remove(memory), memory);
        older["opens"] = Remembered((BatchCommandIds.For(open.BatchId), openSnapshot));
        older["closes"] = Remembered((BatchCommandIds.For(close.BatchId), closeOutcome), ("intent:7", reduceOutcome));
        await Storage.WriteStateAsync(StorageNames.Position, PositionId(key), new GrainState<JsonObject>(older, row.ETag));

        // Each retry, through each path that asks, answers what the first call did and trades nothing.
        var balance = (await _world.Account(account).GetAsync())!;
        var before = (await position.GetAsync())!;
        var openCommand = _world.Open(BatchCommandIds.For(open.BatchId), account, 10m, 110m) with { BatchId = open.BatchId };
        AssertSame(OpenReceipt.Of(openSnapshot), (await position.OpenForBatchAsync(openCommand)).Value!);
        AssertSame(OpenReceipt.Of(openSnapshot), (await position.ConcludeOpenAsync(openCommand.OpenId, new Rejection(Errors.StepFailed, "given up"))).Value!);
        var closeCommand = new ClosePositionCommand(BatchCommandIds.For(close.BatchId), CloseReasons.BatchClose, open.BatchId, null, 110m);
        var reclosed = (await position.CloseAsync(closeCommand)).Value!;
        Assert.Equal(CloseReceipt.Of(closeOutcome), reclosed);
        Assert.Equal((closedSnapshot.PositionId, PositionStatus.Closed), (reclosed.PositionId, reclosed.Status));
        Assert.True((await position.GetForCommandAsync(BatchCommandIds.For(close.BatchId))).Handled);
        var reduced = (await position.ReduceAsync(new ReducePositionCommand("intent:7", 1m, 110m, 0m, 100, null))).Value!;
        Assert.Equal((closedSnapshot.PositionId, PositionStatus.Closed, "swap-reduce", sale.RealizedPnlUsdc, sale.Transaction),
            (reduced.PositionId, reduced.Status, reduced.HistoricalSwapId, reduced.RealizedPnlUsdc, reduced.Transaction));
        Assert.True((await position.GetForCommandAsync("intent:7")).Handled);
        AssertSamePosition(before, (await position.GetAsync())!);
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);

        // Its next write (here a batch open refused for good) stores each answer where it now belongs, and no older memory.
        var refusal = new Rejection(Errors.StepFailed, "given up");
        Assert.Equal(Errors.StepFailed, (await position.ConcludeOpenAsync(BatchCommandIds.For(Guid.NewGuid()), refusal)).Problem!.Code);
        var stored = new GrainState<JsonObject>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), stored);
        Assert.False(stored.State!.ContainsKey("closes"));
        Assert.False(stored.State.ContainsKey("opens"));
        Assert.Equal([BatchCommandIds.For(open.BatchId)], Keys(stored.State, "batchOpens"));
        Assert.Empty(Keys(stored.State, "intentOpens"));
        Assert.Equal([BatchCommandIds.For(close.BatchId)], Keys(stored.State, "closeReceipts"));
        Assert.Equal(["intent:7"], Keys(stored.State, "intentReductions"));
        Assert.False(stored.State["closeReceipts"]!["entries"]![BatchCommandIds.For(close.BatchId)]!.AsObject().ContainsKey("position"));
    }

    /// <summary>Nothing was traded: the same lifecycle, with the same sales, untouched since.</summary>
    private static void AssertSamePosition(PositionSnapshot before, PositionSnapshot after)
    {
        Assert.Equal((before.PositionId, before.Status, before.Size, before.Exits.Count, before.LastTransaction, before.UpdatedAt),
            (after.PositionId, after.Status, after.Size, after.Exits.Count, after.LastTransaction, after.UpdatedAt));
    }

    /// <summary>Waits until the agent has taken a batch's (one-way) report that it completed.</summary>
    private async Task HeardCompletedAsync(Guid agent, Guid batchId) =>
        await Eventually.WaitForAsync(() => _world.Agent(agent).GetCompletedBatchesAsync(_world.Symbol),
            completed => completed.Contains(batchId), what: $"the agent to hear that batch {batchId} completed");

    private async Task<PositionGrainState> PositionRowAsync(string key)
    {
        var row = new GrainState<PositionGrainState>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), row);
        return row.State!;
    }

    private async Task<Grains.Accounts.SubscriberState> AccountRowAsync(string account)
    {
        var row = new GrainState<Grains.Accounts.SubscriberState>();
        await Storage.ReadStateAsync(StorageNames.Account, GrainId.Create("subscriber", GrainKeys.Account(_world.Organization, account)), row);
        return row.State!;
    }

    private static void AssertSame(OpenReceipt expected, OpenReceipt actual)
    {
        Assert.Equal(expected with { Fees = [] }, actual with { Fees = [] });
        Assert.Equal(expected.Fees, actual.Fees);
    }

    private static void AssertUnchanged(Contracts.Accounts.AccountView before, Contracts.Accounts.AccountView after)
    {
        Assert.Equal((before.FreeUsdc, before.LockedUsdc, before.FeesPaidUsdc, before.RealizedPnlUsdc),
            (after.FreeUsdc, after.LockedUsdc, after.FeesPaidUsdc, after.RealizedPnlUsdc));
        Assert.Equal(before.OpenPositionKeys, after.OpenPositionKeys);
    }
}
