using AgentDesk.Testing;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentDesk.Gateway.Tests;

/// <summary>The AlphaGrid flow (signed intents on a vault) over real HTTP, with every intent signed by ethers 6.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AlphaGridStoryTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    /// <summary>An agent with a signer, bound to a vault that allows NVDA (18 decimals), and a price.</summary>
    public static async Task<(string AgentId, string Key, string Symbol, string VaultId)> SetUpAsync(HttpClient http, string track = "Evaluation", decimal price = 100m)
    {
        var (key, signer) = TestData.NewKey();
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        var vaultId = "vault-" + Guid.NewGuid().ToString("N")[..8];
        await http.PostAsync("/agent/register", new { agentId, name = "AlphaGrid agent", agentType = "SWAP", signerAddress = signer }).OkAsync();
        await http.PostAsync("/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "Equities", capitalUsdc = "100000" }).OkAsync();
        await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/{symbol}", new { address = TestData.NewAddress(), decimals = 18 }).OkAsync();
        await http.PutAsync($"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "10000" }).OkAsync();
        await http.PutAsync($"/api/v1/agents/{agentId}/track", new { track }).OkAsync();
        await http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = price.ToString(System.Globalization.CultureInfo.InvariantCulture) } } }).OkAsync();
        return (agentId, key, symbol, vaultId);
    }

    public static long Deadline => DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();

    /// <summary>Quotes, signs the returned typed data with ethers, and returns the body to submit.</summary>
    public static async Task<(JsonObject Body, JsonNode Quote)> SignedAsync(HttpClient http, string agentId, string key, string quotePath, JsonObject fields)
    {
        var query = string.Join("&", fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value is JsonArray a ? a.ToJsonString() : f.Value!.ToString())}"));
        var quote = await http.GetJsonAsync($"/agents/{agentId}/{quotePath}?{query}").OkAsync();
        var signature = await Ethers.SignAsync(quote["typedData"]!, key);
        var body = (JsonObject)fields.DeepClone();
        body["nonce"] = quote["nonce"]!.GetValue<long>();
        body["signature"] = signature;
        return (body, quote);
    }

    [Fact]
    public async Task Quote_open_replay_add_update_ladder_reduce_and_an_automatic_ladder_exit()
    {
        var (agentId, key, symbol, _) = await SetUpAsync(_http);
        var deadline = Deadline;
        var exits = new JsonArray(
            new JsonObject { ["triggerType"] = "TakeProfit", ["triggerBps"] = 1000, ["exitBps"] = 5000 },
            new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -1000, ["exitBps"] = 10000 });

        // quote → sign → open
        var (open, quote) = await SignedAsync(_http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "100", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits, ["deadline"] = deadline,
        });
        Assert.Equal(0, quote["nonce"]!.GetValue<long>());
        Assert.Equal("OpenPosition", quote["typedData"]!["primaryType"]!.GetValue<string>());
        Assert.Equal("100000000", quote["typedData"]!["message"]!["usdcAmount"]!.GetValue<string>());
        Assert.Equal(1000, quote["exitBounds"]!["maxStopLossBps"]!.GetValue<int>());
        Assert.Equal(1000m, quote["allocation"]!["maxTradeSizeUsdc"]!.GetValue<decimal>());
        var opened = await _http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        var positionId = opened["positionId"]!.GetValue<string>();
        Assert.StartsWith("0x", opened["transactionHash"]!.GetValue<string>());
        Assert.Equal(0, opened["nonce"]!.GetValue<long>());

        // the same signed body again is a retry: the first answer, nothing traded twice
        var retried = await _http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        Assert.Equal(positionId, retried["positionId"]!.GetValue<string>());
        Assert.Equal(opened["transactionHash"]!.GetValue<string>(), retried["transactionHash"]!.GetValue<string>());
        // the same signature spelt otherwise (upper-case hex, v as 0 or 1) is the same signed intent: the first answer again
        var signature = open["signature"]!.GetValue<string>();
        var respelt = (JsonObject)open.DeepClone();
        respelt["signature"] = "0x" + signature[2..^2].ToUpperInvariant()
            + (Convert.ToByte(signature[^2..], 16) - 27).ToString("x2", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(positionId, (await _http.PostAsync($"/agents/{agentId}/trade-intents", respelt).OkAsync())["positionId"]!.GetValue<string>());
        // another intent signed with the spent nonce is a replay
        var otherFields = new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "99", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits.DeepClone(), ["deadline"] = deadline,
        };
        var otherQuote = await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&usdcAmount=99&minTokenOut=0&maxSlippageBps=100"
            + $"&deadline={deadline}&exits={Uri.EscapeDataString(exits.ToJsonString())}").OkAsync();
        otherQuote["typedData"]!["message"]!["nonce"] = "0";
        otherFields["nonce"] = 0;
        otherFields["signature"] = await Ethers.SignAsync(otherQuote["typedData"]!, key);
        var replay = await _http.PostAsync($"/agents/{agentId}/trade-intents", otherFields).ProblemAsync(409, "nonce_mismatch");
        Assert.Equal("1", replay["expectedNonce"]!.GetValue<string>());

        // add
        var (add, _) = await SignedAsync(_http, agentId, key, "add-intents", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "50", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = deadline,
        });
        var added = await _http.PostAsync($"/agents/{agentId}/add-intents", add).OkAsync();
        Assert.Equal(positionId, added["positionId"]!.GetValue<string>());
        var sizeAfterAdd = added["size"]!.GetValue<decimal>();
        Assert.InRange(sizeAfterAdd, 1.49m, 1.5m);

        // update the ladder: take profit on half at +3%, stop the rest at -5%
        var ladder = new JsonArray(
            new JsonObject { ["triggerType"] = "TakeProfit", ["triggerBps"] = 300, ["exitBps"] = 5000 },
            new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 });
        var (update, _) = await SignedAsync(_http, agentId, key, "exit-ladder-intents", new JsonObject { ["symbol"] = symbol, ["exits"] = ladder, ["deadline"] = deadline });
        var updated = await _http.PostAsync($"/agents/{agentId}/exit-ladder-intents", update).OkAsync();
        Assert.Equal(300, updated["pendingExits"]![0]!["triggerBps"]!.GetValue<int>());

        // reduce by 0.1 token
        var (reduce, _) = await SignedAsync(_http, agentId, key, "reduce-intents", new JsonObject
        {
            ["symbol"] = symbol, ["tokenAmount"] = "0.1", ["minUsdcOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = deadline,
        });
        var reduced = await _http.PostAsync($"/agents/{agentId}/reduce-intents", reduce).OkAsync();
        Assert.Equal(sizeAfterAdd - 0.1m, reduced["size"]!.GetValue<decimal>());
        Assert.Equal($"{positionId}:0", reduced["historicalSwapId"]!.GetValue<string>());
        Assert.NotNull(reduced["transactionHash"]!.GetValue<string>());

        // A client that lost an answer sends the same signed intent again: the same answer, byte for byte, and no trade.
        Assert.Equal(reduced.ToJsonString(), (await _http.PostAsync($"/agents/{agentId}/reduce-intents", reduce).OkAsync()).ToJsonString());
        Assert.Equal(added.ToJsonString(), (await _http.PostAsync($"/agents/{agentId}/add-intents", add).OkAsync()).ToJsonString());

        var listed = (await _http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray().Single()!;
        Assert.Equal(2, listed["pendingExits"]!.AsArray().Count);

        // +4%: the take-profit rung sells half of what remains; then -6%: the stop closes the rest
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "104" } } }).OkAsync();
        var afterTakeProfit = await Eventually.WaitForAsync(async () => (await _http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray(),
            a => a.Count == 1 && a[0]!["exits"]!.AsArray().Any(e => e!["reason"]!.GetValue<string>() == "ladder_take_profit"), what: "take-profit rung");
        Assert.Single(afterTakeProfit[0]!["pendingExits"]!.AsArray());
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "94" } } }).OkAsync();
        await Eventually.WaitForAsync(async () => (await _http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray().Count, c => c == 0, what: "stop-loss rung");

        // four intents were accepted; the replay was not
        var next = await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}").OkAsync();
        Assert.Equal(4, next["nonce"]!.GetValue<long>());
        Assert.Equal(0m, next["allocation"]!["deployedUsdc"]!.GetValue<decimal>()); // released as the position closed
    }
}
