using AgentDesk.Testing;
using System.Text.Json.Nodes;

namespace AgentDesk.Gateway.Tests;

/// <summary>The Symphony flow (register, batch-open, the Nexgent positions view, close, batch-close) over real HTTP.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SymphonyStoryTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    [Fact]
    public async Task Register_subscribe_open_watch_stop_out_and_close()
    {
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        var feeAddress = TestData.NewAddress();

        // register (Symphony shape)
        var registered = await _http.PostAsync("/agent/register", new
        {
            agentId, name = "Momentum", description = "Trend follower", imageUrl = "https://example.com/a.png", agentType = "PERPETUAL", isPublic = true,
            agentFees = new Dictionary<string, object> { ["owner_flat"] = new { fee = 0.1m, feeAddress, type = "FLAT" } },
        }).OkAsync();
        Assert.Equal("success", registered["status"]!.GetValue<string>());
        Assert.Equal("true", registered["isPublic"]!.GetValue<string>());
        Assert.Equal("flat", registered["feeData"]![0]!["feeType"]!.GetValue<string>());

        // accounts, deposits, subscriptions: one account too poor for the 5 USDC minimum
        var rich = TestData.NewAddress();
        var modest = TestData.NewAddress();
        var poor = TestData.NewAddress();
        foreach (var (subscriber, amount) in new[] { (rich, "1000"), (modest, "200"), (poor, "4.50") })
        {
            await _http.PostAsync("/api/v1/accounts", new { smartAccount = subscriber }).OkAsync();
            await _http.PostAsync($"/api/v1/accounts/{subscriber}/deposits", new { amount }).OkAsync();
            await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = subscriber }).OkAsync();
        }

        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "100" }, new { symbol = "ETH", priceUsd = "2000" } } }).OkAsync();

        // batch-open (Symphony shape): the poor subscriber fails, the rest succeed
        var batch = await _http.PostAsync("/agent/batch-open", new
        {
            agentId, symbol, action = "LONG", weight = 100, leverage = 2,
            orderOptions = new { triggerPrice = 0, stopLossPrice = 90, takeProfitPrice = 0 },
        }).OkAsync();
        Assert.Equal("Batch open trade submitted", batch["message"]!.GetValue<string>());
        Assert.Equal(2, batch["successful"]!.GetValue<int>());
        Assert.Equal(1, batch["failed"]!.GetValue<int>());
        var results = batch["results"]!.AsArray();
        var poorResult = results.Single(r => r!["smartAccount"]!.GetValue<string>() == poor)!["result"]!;
        Assert.False(poorResult["success"]!.GetValue<bool>());
        Assert.Equal("below_min_trade_size", poorResult["code"]!.GetValue<string>());
        var richResult = results.Single(r => r!["smartAccount"]!.GetValue<string>() == rich)!["result"]!;
        Assert.True(richResult["success"]!.GetValue<bool>());
        Assert.StartsWith("0x", richResult["submitTxHash"]!.GetValue<string>());
        Assert.Equal(3, richResult["newFanCount"]!.GetValue<int>());

        // positions view (Nexgent shape)
        var positions = (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray();
        Assert.Equal(2, positions.Count);
        var richPosition = positions.Single(p => p!["walletAddress"]!.GetValue<string>() == rich)!;
        Assert.Equal(symbol, richPosition["tokenSymbol"]!.GetValue<string>());
        Assert.InRange(richPosition["purchase"]!["priceUsd"]!.GetValue<decimal>(), 100m, 100.1m);
        Assert.Equal(0.05m, Math.Round(richPosition["purchase"]!["priceNative"]!.GetValue<decimal>(), 4));
        Assert.NotNull(richPosition["profitLoss"]!["priceChangePercent"]);
        var filtered = (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}?walletAddress={modest}").OkAsync()).AsArray();
        Assert.Equal(modest, filtered.Single()!["walletAddress"]!.GetValue<string>());

        // the price drops through the stop: both positions close by themselves
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "88" } } }).OkAsync();
        await Eventually.WaitForAsync(async () => (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray().Count, c => c == 0, what: "stop-loss closes");
        var account = await Eventually.WaitForAsync(() => _http.GetJsonAsync($"/api/v1/accounts/{rich}").OkAsync(), a => a["lockedUsdc"]!.GetValue<decimal>() == 0, what: "settlement");
        Assert.True(account["freeUsdc"]!.GetValue<decimal>() < 1000m - 0.1m - 200m); // 2x leverage, -12%: a loss of about a quarter
        Assert.True(account["freeUsdc"]!.GetValue<decimal>() > 700m);

        // batch-close afterwards: everything is already closed, so every position is skipped
        var close = await _http.PostAsync("/agent/batch-close", new { agentId, batchId = batch["batchId"]!.GetValue<string>() }).OkAsync();
        Assert.Equal("Batch close trade submitted", close["message"]!.GetValue<string>());
        Assert.Equal(0, close["successful"]!.GetValue<int>());
        Assert.Equal(2, close["skipped"]!.GetValue<int>());
        Assert.Equal("Skipped closed trade", close["results"]![0]!["result"]!["message"]!.GetValue<string>());

        // the fee ledger got one FLAT fee per successful subscriber
        var fees = await _http.GetJsonAsync($"/api/v1/fees/{feeAddress}").OkAsync();
        Assert.Equal(0.2m, fees["totalUsdc"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Batch_close_closes_open_positions_and_a_manual_close_answers_in_the_seed_shape()
    {
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        await _http.PostAsync("/agent/register", new { agentId, agentType = "PERPETUAL" }).OkAsync();
        var accounts = new[] { TestData.NewAddress(), TestData.NewAddress() };
        foreach (var account in accounts)
        {
            await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
            await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
        }
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "10" } } }).OkAsync();
        var batch = await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "SHORT", weight = 50, leverage = 3 }).OkAsync();

        // close one by hand (Nexgent shape): realised P/L on a short after a 10% fall
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "9" } } }).OkAsync();
        var positions = (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray();
        var first = positions[0]!["id"]!.GetValue<string>();
        var closed = await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{first}/close", new { reason = "manual" }).OkAsync();
        Assert.True(closed["success"]!.GetValue<bool>());
        // 50 USDC × 3 short at 10 less 5 bps paper slippage (9.995), bought back at 9 plus 5 bps (9.0045):
        // floor8(150 / 9.995) × (9.995 − 9.0045) = 14.864932 USDC.
        Assert.Equal(14.864932m, closed["profitLossUsd"]!.GetValue<decimal>());
        Assert.NotNull(closed["transactionHash"]);
        Assert.NotNull(closed["historicalSwapId"]);
        // a retry (say, of a close whose answer was lost) gets the first answer, and sells nothing more
        var again = await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{first}/close", new { reason = "manual" }).OkAsync();
        Assert.Equal(closed.ToJsonString(), again.ToJsonString()); // a second sale would be another transaction
        Assert.Equal(400, (await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{positions[1]!["id"]}/close", new { reason = "whim" })).Status);

        var close = await _http.PostAsync("/agent/batch-close", new { agentId, batchId = batch["batchId"]!.GetValue<string>() }).OkAsync();
        Assert.Equal(1, close["successful"]!.GetValue<int>());
        Assert.Equal(1, close["skipped"]!.GetValue<int>());
        // closed by the batch, not by hand: there is no close by hand to answer
        var byBatch = await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{positions[1]!["id"]}/close", new { reason = "manual" });
        Assert.Equal(404, byBatch.Status);
        Assert.Equal("Position not found", byBatch.Body!["error"]!.GetValue<string>());
        var closedResult = close["results"]!.AsArray().Single(r => r!["result"]!["skipped"] is null)!["result"]!;
        Assert.Equal(42161, closedResult["chainId"]!.GetValue<int>());
        Assert.StartsWith("0x", closedResult["txHash"]!.GetValue<string>());

        var progress = await _http.GetJsonAsync($"/api/v1/batches/{batch["batchId"]}").OkAsync();
        Assert.Equal("Completed", progress["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_positions_view_shows_every_exit_a_batch_open_armed_and_the_trailing_stop_follows_the_peak()
    {
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        await _http.PostAsync("/agent/register", new { agentId, agentType = "PERPETUAL" }).OkAsync();
        var (stopOnly, everything) = (TestData.NewAddress(), TestData.NewAddress());
        foreach (var account in new[] { stopOnly, everything })
        {
            await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
        }
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "150" }, new { symbol = "ETH", priceUsd = "3000" } } }).OkAsync();

        // The README's batch-open: an absolute stop at 140 and nothing else.
        await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = stopOnly }).OkAsync();
        await _http.PostAsync("/agent/batch-open", new
        {
            agentId, symbol, action = "LONG", weight = 50, leverage = 2, orderOptions = new { triggerPrice = 0, stopLossPrice = 140, takeProfitPrice = 0 },
        }).OkAsync();
        var view = (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}?walletAddress={stopOnly}").OkAsync()).AsArray().Single()!;
        Assert.Equal(140m, view["exitPlan"]!["stopLossPrice"]!.GetValue<decimal>());
        Assert.Null(view["exitPlan"]!["takeProfitPrice"]);
        Assert.Null(view["exitPlan"]!["trailingStopPercentage"]);
        Assert.Null(view["exitPlan"]!["trailingStopPrice"]);
        Assert.Empty(view["exitPlan"]!["ladder"]!.AsArray());
        Assert.Empty(view["pendingExits"]!.AsArray());
        // The seed's stopLoss is the trailing stop: none here.
        Assert.Null(view["stopLoss"]!["percentage"]);
        Assert.Null(view["stopLoss"]!["peakPrice"]);

        // Stop, target and a 10 % trailing stop: each is shown, the trailing stop with its peak and the price it fires at.
        await _http.DeleteJsonAsync($"/api/v1/agents/{agentId}/subscribers/{stopOnly}").OkAsync();
        await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = everything }).OkAsync();
        await _http.PostAsync("/agent/batch-open", new
        {
            agentId, symbol, action = "LONG", weight = 50, leverage = 2,
            orderOptions = new { triggerPrice = 0, stopLossPrice = 140, takeProfitPrice = 180, trailingStopPercentage = 10 },
        }).OkAsync();
        var armed = (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}?walletAddress={everything}").OkAsync()).AsArray().Single()!;
        var entry = armed["purchase"]!["priceUsd"]!.GetValue<decimal>();
        Assert.Equal(140m, armed["exitPlan"]!["stopLossPrice"]!.GetValue<decimal>());
        Assert.Equal(180m, armed["exitPlan"]!["takeProfitPrice"]!.GetValue<decimal>());
        Assert.Equal(10m, armed["exitPlan"]!["trailingStopPercentage"]!.GetValue<decimal>());
        Assert.Equal(10m, armed["stopLoss"]!["percentage"]!.GetValue<decimal>());
        Assert.Equal(entry, armed["stopLoss"]!["peakPrice"]!.GetValue<decimal>());
        Assert.Equal(entry * 0.9m, armed["exitPlan"]!["trailingStopPrice"]!.GetValue<decimal>());

        // A new high moves the peak and the trailing stop with it; the absolute stop and target stay.
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "160" } } }).OkAsync();
        var followed = await Eventually.WaitForAsync(
            async () => (await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}?walletAddress={everything}").OkAsync()).AsArray().Single()!,
            p => p["stopLoss"]!["peakPrice"]!.GetValue<decimal>() == 160m, what: "the trailing stop's peak to follow the price");
        Assert.Equal(144m, followed["exitPlan"]!["trailingStopPrice"]!.GetValue<decimal>());
        Assert.Equal(140m, followed["exitPlan"]!["stopLossPrice"]!.GetValue<decimal>());
        Assert.Equal(180m, followed["exitPlan"]!["takeProfitPrice"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_first_batch_and_refuses_a_different_body()
    {
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        await _http.PostAsync("/agent/register", new { agentId }).OkAsync();
        var account = TestData.NewAddress();
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
        await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "10" } } }).OkAsync();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        var first = await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 50, leverage = 2 }, headers).OkAsync();
        var second = await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 50, leverage = 2 }, headers).OkAsync();
        Assert.Equal(first["batchId"]!.GetValue<string>(), second["batchId"]!.GetValue<string>());
        Assert.Equal(first["results"]![0]!["result"]!["positionId"]!.GetValue<string>(), second["results"]![0]!["result"]!["positionId"]!.GetValue<string>());
        Assert.Equal(50m, (await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync())["freeUsdc"]!.GetValue<decimal>());

        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 60, leverage = 2 }, headers).ProblemAsync(409, "idempotency_conflict");
    }
}
