using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Positions;
using AgentDesk.Silo.Persistence;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using JsonGrainStorageSerializer = AgentDesk.Silo.Persistence.JsonGrainStorageSerializer;

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
    public async Task A_position_through_many_batch_cycles_keeps_a_small_row_and_answers_its_latest_retries_as_it_first_did()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(1_000m, agent);
        BatchResult open = null!, close = null!;
        for (var cycle = 0; cycle < 70; cycle++)
        {
            await _world.PriceAsync(100m + cycle);
            open = await _world.BatchOpenAsync(agent, weight: 10, leverage: 2);
            Assert.Equal(1, open.Successful);
            close = (await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, open.BatchId))).Value!;
            Assert.Equal(1, close.Successful);
        }

        var key = GrainKeys.Position(agent, account, _world.Symbol);
        var row = new GrainState<PositionGrainState>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), row);
        Assert.Equal(64, row.State!.BatchOpens.Count);
        Assert.Equal(64, row.State.Closes.Count);
        // Every activation reads this row. Remembering each batch's whole position made it about 280 KB after 64 cycles.
        var bytes = new JsonGrainStorageSerializer().Serialize(row.State).ToMemory().Length;
        Assert.InRange(bytes, 1, 80 * 1024); // 73 KB measured

        // The latest batch's steps, retried (a resumed batch whose answers were lost), answer what they answered then
        // and trade nothing.
        var balance = (await _world.Account(account).GetAsync())!;
        var opened = open.Results.Single();
        var position = _world.Position(agent, account);
        var reopened = (await position.OpenForBatchAsync(_world.Open($"batch:{open.BatchId:D}", account, 10m, 170m) with { BatchId = open.BatchId })).Value!;
        AssertSame(new OpenReceipt(opened.PositionId!, PositionStatus.Open, opened.CollateralUsdc, opened.Fees, opened.Transaction), reopened);
        var closed = close.Results.Single();
        var reclosed = (await position.CloseAsync(new ClosePositionCommand($"batch:{close.BatchId:D}", CloseReasons.BatchClose, open.BatchId, null, 170m))).Value!;
        Assert.False(reclosed.Skipped);
        Assert.Equal(closed.PositionId, reclosed.PositionId);
        Assert.Equal(PositionStatus.Closed, reclosed.Status);
        Assert.Equal(closed.Transaction, reclosed.Transaction);
        Assert.Equal(PositionStatus.Closed, (await position.GetAsync())!.Status);
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);
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
        var close = (await fixture.Client.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, open.BatchId))).Value!;
        var closedSnapshot = (await position.GetAsync())!;
        var sale = closedSnapshot.Exits.Single();

        // The row as a version before the receipts stored it: the batch's open with the opens, whole; the close with the
        // reduces (here an intent's, made up for the test), whole, under "closes"; none of the receipts' memories.
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        await fixture.Cluster.DeactivateAsync(position);
        var row = new GrainState<PositionGrainState>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), row);
        var closeOutcome = new CloseOutcome(false, null, closedSnapshot, sale.RealizedPnlUsdc, sale.Price, sale.Transaction, sale.HistoricalSwapId);
        var reduceOutcome = closeOutcome with { Position = closedSnapshot with { CloseReason = CloseReasons.Reduce }, HistoricalSwapId = "swap-reduce" };
        var older = JsonSerializer.SerializeToNode(row.State!, JsonGrainStorageSerializer.Options)!.AsObject();
        older.Remove("batchOpens");
        older.Remove("closeReceipts");
        older.Remove("reductions");
        older["opens"] = Remembered(($"batch:{open.BatchId:D}", openSnapshot));
        older["closes"] = Remembered(($"batch:{close.BatchId:D}", closeOutcome), ("intent:7", reduceOutcome));
        await Storage.WriteStateAsync(StorageNames.Position, PositionId(key), new GrainState<JsonObject>(older, row.ETag));

        var balance = (await _world.Account(account).GetAsync())!;
        var reopened = await position.OpenForBatchAsync(_world.Open($"batch:{open.BatchId:D}", account, 10m, 110m) with { BatchId = open.BatchId });
        AssertSame(OpenReceipt.Of(openSnapshot), reopened.Value!);
        var reclosed = (await position.CloseAsync(new ClosePositionCommand($"batch:{close.BatchId:D}", CloseReasons.BatchClose, open.BatchId, null, 110m))).Value!;
        Assert.Equal(CloseReceipt.Of(closeOutcome), reclosed);
        Assert.Equal(closedSnapshot.PositionId, reclosed.PositionId);
        var reduced = (await position.ReduceAsync(new ReducePositionCommand("intent:7", 1m, 110m, 0m, 100, null))).Value!;
        Assert.Equal("swap-reduce", reduced.HistoricalSwapId);
        Assert.Equal(CloseReasons.Reduce, reduced.Position!.CloseReason);
        Assert.True((await position.GetForCommandAsync("intent:7")).Handled);
        AssertUnchanged(balance, (await _world.Account(account).GetAsync())!);
        Assert.Equal(PositionStatus.Closed, (await position.GetAsync())!.Status);

        // Its next write (here a batch open refused for good) stores each answer where it now belongs, and no "closes".
        var refusal = new Rejection(Errors.StepFailed, "given up");
        Assert.Equal(Errors.StepFailed, (await position.ConcludeOpenAsync($"batch:{Guid.NewGuid():D}", refusal)).Problem!.Code);
        var stored = new GrainState<JsonObject>();
        await Storage.ReadStateAsync(StorageNames.Position, PositionId(key), stored);
        Assert.False(stored.State!.ContainsKey("closes"));
        Assert.Equal([$"batch:{open.BatchId:D}"], Keys(stored.State, "batchOpens"));
        Assert.Empty(Keys(stored.State, "opens"));
        Assert.Equal([$"batch:{close.BatchId:D}"], Keys(stored.State, "closeReceipts"));
        Assert.Equal(["intent:7"], Keys(stored.State, "reductions"));
        Assert.False(stored.State["closeReceipts"]!["entries"]![$"batch:{close.BatchId:D}"]!.AsObject().ContainsKey("position"));
    }

    private static void AssertSame(OpenReceipt expected, OpenReceipt actual)
    {
        Assert.Equal(expected with { Fees = [] }, actual with { Fees = [] });
        Assert.Equal(expected.Fees, actual.Fees);
    }

    private static void AssertUnchanged(Contracts.Accounts.AccountView before, Contracts.Accounts.AccountView after)
    {
        Assert.Equal((before.FreeUsdc, before.LockedUsdc, before.FeesPaidUsdc, before.RealizedPnlUsdc), (after.FreeUsdc, after.LockedUsdc, after.FeesPaidUsdc, after.RealizedPnlUsdc));
        Assert.Equal(before.OpenPositionKeys, after.OpenPositionKeys);
    }

    private static JsonObject Remembered<T>(params (string Key, T Answer)[] answers)
    {
        var entries = new JsonObject();
        foreach (var (key, answer) in answers) entries[key] = JsonSerializer.SerializeToNode(answer, JsonGrainStorageSerializer.Options);
        return new JsonObject { ["entries"] = entries, ["count"] = answers.Length };
    }

    private static string[] Keys(JsonObject row, string memory) => row[memory]!["entries"]!.AsObject().Select(e => e.Key).ToArray();
}
