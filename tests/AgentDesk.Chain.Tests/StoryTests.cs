using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Chain.Tests;

/// <summary>
/// Both stories over real HTTP, once on the paper venue and once on the EVM venue, with the same assertions. On the EVM
/// venue every returned hash must have a successful receipt, and after each step the chain's balances (the vault's, the
/// subscribers') must equal the positions' sizes.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class StoryTests(ChainFixture chain)
{
    private const string Symbol = "NVDA";

    [Theory]
    [InlineData("Paper")]
    [InlineData("Evm")]
    public async Task AlphaGrid_quote_open_replay_add_update_ladder_reduce_and_automatic_ladder_exits(string venue)
    {
        await using var gateway = await VenueGateway.StartAsync(venue, chain);
        var http = gateway.Http;
        var (key, signer) = TestData.NewKey();
        var agentId = Guid.NewGuid();
        var vaultId = "vault-" + Guid.NewGuid().ToString("N")[..8];
        await http.PostAsync("/agent/register", new { agentId, name = "AlphaGrid agent", agentType = "SWAP", signerAddress = signer }).OkAsync();
        await http.PostAsync("/api/v1/vaults", new
        {
            vaultId, address = chain.Vault, name = "Equities", capitalUsdc = "100000", adminSignature = chain.VaultClaim(VenueGateway.Organization, vaultId),
        }).OkAsync();
        await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/{Symbol}", new { address = chain.Token(Symbol), decimals = 18 }).OkAsync();
        await http.PutAsync($"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "10000" }).OkAsync();
        await http.PutAsync($"/api/v1/agents/{agentId}/track", new { track = "Evaluation" }).OkAsync();
        await gateway.SetPriceAsync(Symbol, 100m);
        var vaultBefore = await chain.TokenBalanceAsync(Symbol, chain.Vault);

        // What the chain must show after each step: the hash mined successfully, the vault holds exactly the position.
        async Task OnChainAsync(string? hash, decimal size)
        {
            if (!gateway.OnChain) return;
            if (hash is not null) await chain.AssertSucceededAsync(hash);
            Assert.Equal(size, await chain.TokenBalanceAsync(Symbol, chain.Vault) - vaultBefore);
        }

        var deadline = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var exits = new JsonArray(
            new JsonObject { ["triggerType"] = "TakeProfit", ["triggerBps"] = 1000, ["exitBps"] = 5000 },
            new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -1000, ["exitBps"] = 10000 });

        // quote → ethers signs → open: 100 USDC at 100 plus the venue's 5 bps
        var (open, quote) = await SignedAsync(http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = Symbol, ["usdcAmount"] = "100", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits, ["deadline"] = deadline,
        });
        Assert.Equal(0, quote["nonce"]!.GetValue<long>());
        Assert.Equal(gateway.OnChain ? chain.Deployment.Router : "0x5fbdb2315678afecb367f032d93f642f64180aa3",
            quote["typedData"]!["domain"]!["verifyingContract"]!.GetValue<string>());
        var opened = await http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        var size = opened["size"]!.GetValue<decimal>();
        Assert.Equal(Math.Round(100m / 100.05m, 18, MidpointRounding.ToZero), size);
        Assert.Equal(!gateway.OnChain, opened["simulated"]!.GetValue<bool>());
        var openHash = opened["transactionHash"]!.GetValue<string>();
        Assert.Matches("^0x[0-9a-f]{64}$", openHash);
        await OnChainAsync(openHash, size);

        // the same signed body again is a retry: the first answer, nothing traded twice
        var retried = await http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        Assert.Equal(openHash, retried["transactionHash"]!.GetValue<string>());
        await OnChainAsync(openHash, size);
        // another intent signed with the spent nonce is a replay
        var otherQuote = await http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={Symbol}&usdcAmount=99&minTokenOut=0&maxSlippageBps=100"
            + $"&deadline={deadline}&exits={Uri.EscapeDataString(exits.ToJsonString())}").OkAsync();
        otherQuote["typedData"]!["message"]!["nonce"] = "0";
        var replay = new JsonObject
        {
            ["symbol"] = Symbol, ["usdcAmount"] = "99", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits.DeepClone(), ["deadline"] = deadline,
            ["nonce"] = 0, ["signature"] = await Ethers.SignAsync(otherQuote["typedData"]!, key),
        };
        var refused = await http.PostAsync($"/agents/{agentId}/trade-intents", replay).ProblemAsync(409, "nonce_mismatch");
        Assert.Equal("1", refused["expectedNonce"]!.GetValue<string>());

        // add 50 USDC
        var (add, _) = await SignedAsync(http, agentId, key, "add-intents", new JsonObject
        {
            ["symbol"] = Symbol, ["usdcAmount"] = "50", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = deadline,
        });
        var added = await http.PostAsync($"/agents/{agentId}/add-intents", add).OkAsync();
        size = added["size"]!.GetValue<decimal>();
        Assert.Equal(Math.Round(100m / 100.05m, 18, MidpointRounding.ToZero) + Math.Round(50m / 100.05m, 18, MidpointRounding.ToZero), size);
        Assert.NotEqual(openHash, added["transactionHash"]!.GetValue<string>());
        await OnChainAsync(added["transactionHash"]!.GetValue<string>(), size);

        // replace the ladder: take profit on half at +3%, stop the rest at -5%
        var ladder = new JsonArray(
            new JsonObject { ["triggerType"] = "TakeProfit", ["triggerBps"] = 300, ["exitBps"] = 5000 },
            new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 });
        var (update, _) = await SignedAsync(http, agentId, key, "exit-ladder-intents", new JsonObject { ["symbol"] = Symbol, ["exits"] = ladder, ["deadline"] = deadline });
        var updated = await http.PostAsync($"/agents/{agentId}/exit-ladder-intents", update).OkAsync();
        Assert.Equal(300, updated["pendingExits"]![0]!["triggerBps"]!.GetValue<int>());
        await OnChainAsync(updated["transactionHash"]!.GetValue<string>(), size);

        // reduce by 0.1 token
        var (reduce, _) = await SignedAsync(http, agentId, key, "reduce-intents", new JsonObject
        {
            ["symbol"] = Symbol, ["tokenAmount"] = "0.1", ["minUsdcOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = deadline,
        });
        var reduced = await http.PostAsync($"/agents/{agentId}/reduce-intents", reduce).OkAsync();
        Assert.Equal(size - 0.1m, reduced["size"]!.GetValue<decimal>());
        size -= 0.1m;
        await OnChainAsync(reduced["transactionHash"]!.GetValue<string>(), size);

        // +4%: the take-profit rung sells half of what remains, by itself
        await gateway.SetPriceAsync(Symbol, 104m);
        var afterTakeProfit = await Eventually.WaitForAsync(async () => (await http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray(),
            a => a.Count == 1 && a[0]!["exits"]!.AsArray().Any(e => e!["reason"]!.GetValue<string>() == "ladder_take_profit"), what: "the take-profit rung");
        var takeProfit = afterTakeProfit[0]!["exits"]!.AsArray().Single(e => e!["reason"]!.GetValue<string>() == "ladder_take_profit")!;
        Assert.Equal(Math.Round(size / 2, 18, MidpointRounding.ToZero), takeProfit["size"]!.GetValue<decimal>());
        size = afterTakeProfit[0]!["size"]!.GetValue<decimal>();
        Assert.Single(afterTakeProfit[0]!["pendingExits"]!.AsArray());
        await OnChainAsync(takeProfit["transaction"]!["hash"]!.GetValue<string>(), size);

        // -6%: the stop-loss rung closes the rest
        await gateway.SetPriceAsync(Symbol, 94m);
        await Eventually.WaitForAsync(async () => (await http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray().Count, c => c == 0, what: "the stop-loss rung");
        await OnChainAsync(null, 0m);

        // four intents were accepted (the replay was not), on both sides; the allocation is free again
        var next = await http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={Symbol}").OkAsync();
        Assert.Equal(4, next["nonce"]!.GetValue<long>());
        Assert.Equal(0m, next["allocation"]!["deployedUsdc"]!.GetValue<decimal>());
        if (gateway.OnChain) Assert.Equal(4, (int)await chain.NonceOfAgentAsync(agentId));
    }

    [Theory]
    [InlineData("Paper")]
    [InlineData("Evm")]
    public async Task Symphony_swap_batch_open_stop_out_then_batch_open_and_batch_close(string venue)
    {
        const string sol = "SOL";
        await using var gateway = await VenueGateway.StartAsync(venue, chain);
        var http = gateway.Http;
        var agentId = Guid.NewGuid();
        var feeAddress = TestData.NewAddress();
        await http.PostAsync("/agent/register", new
        {
            agentId, name = "Spot momentum", agentType = "SWAP",
            agentFees = new Dictionary<string, object> { ["owner_flat"] = new { fee = 0.1m, feeAddress, type = "FLAT" } },
        }).OkAsync();

        // three subscribers; one too poor for the 5 USDC minimum. On the chain each smart account holds the same USDC,
        // approved the router and consented to the agent.
        var deposits = new[] { 1000m, 200m, 4.5m };
        var accounts = new List<string>();
        foreach (var amount in deposits)
        {
            var account = gateway.OnChain ? await chain.SubscriberAsync(agentId, amount, sol) : TestData.NewAddress();
            await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = amount.ToString(System.Globalization.CultureInfo.InvariantCulture) }).OkAsync();
            await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
            accounts.Add(account);
        }
        var (rich, modest, poor) = (accounts[0], accounts[1], accounts[2]);
        await gateway.SetPriceAsync(sol, 100m);

        async Task<JsonArray> PositionsAsync() => (await http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray();
        async Task BalancesMatchAsync()
        {
            if (!gateway.OnChain) return;
            var positions = await PositionsAsync();
            foreach (var account in accounts)
            {
                var size = positions.SingleOrDefault(p => p!["walletAddress"]!.GetValue<string>() == account)?["size"]!.GetValue<decimal>() ?? 0m;
                Assert.Equal(size, await chain.TokenBalanceAsync(sol, account));
            }
        }

        // batch-open with a stop at 90: SWAP trades spot, so leverage 2 is taken as 1
        var batch = await http.PostAsync("/agent/batch-open", new
        {
            agentId, symbol = sol, action = "LONG", weight = 100, leverage = 2, orderOptions = new { triggerPrice = 0, stopLossPrice = 90, takeProfitPrice = 0 },
        }).OkAsync();
        Assert.Equal(2, batch["successful"]!.GetValue<int>());
        Assert.Equal(1, batch["failed"]!.GetValue<int>());
        var results = batch["results"]!.AsArray();
        Assert.Equal("below_min_trade_size", results.Single(r => r!["smartAccount"]!.GetValue<string>() == poor)!["result"]!["code"]!.GetValue<string>());
        foreach (var account in new[] { rich, modest })
        {
            var result = results.Single(r => r!["smartAccount"]!.GetValue<string>() == account)!["result"]!;
            Assert.True(result["success"]!.GetValue<bool>());
            Assert.Equal(!gateway.OnChain, result["simulated"]!.GetValue<bool>());
            Assert.Matches("^0x[0-9a-f]{64}$", result["submitTxHash"]!.GetValue<string>());
            Assert.Equal(result["submitTxHash"]!.GetValue<string>(), result["executeTxHash"]!.GetValue<string>());
            if (gateway.OnChain) await chain.AssertSucceededAsync(result["submitTxHash"]!.GetValue<string>());
        }
        var positions = await PositionsAsync();
        Assert.Equal(2, positions.Count);
        var richPosition = positions.Single(p => p!["walletAddress"]!.GetValue<string>() == rich)!;
        Assert.Equal(1m, richPosition["leverage"]!.GetValue<decimal>());
        Assert.Equal(100.05m, richPosition["purchase"]!["priceUsd"]!.GetValue<decimal>());
        Assert.InRange(richPosition["size"]!.GetValue<decimal>(), 9.9939m, 9.9941m); // 999.90 USDC at 100.05
        await BalancesMatchAsync();

        // the price falls through the stop: both positions close by themselves and the collateral comes back
        await gateway.SetPriceAsync(sol, 88m);
        await Eventually.WaitForAsync(async () => (await PositionsAsync()).Count, c => c == 0, what: "the stops to close both positions");
        await BalancesMatchAsync();
        var richAccount = await Eventually.WaitForAsync(() => http.GetJsonAsync($"/api/v1/accounts/{rich}").OkAsync(), a => a["lockedUsdc"]!.GetValue<decimal>() == 0,
            what: "the settlement");
        Assert.InRange(richAccount["freeUsdc"]!.GetValue<decimal>(), 878m, 880m); // 999.90 bought at 100.05, sold at 88 less 5 bps
        if (gateway.OnChain) Assert.InRange(await chain.UsdcBalanceAsync(rich), 878m, 880m);

        // a second batch, closed by batch-close: both positions sell and every account is flat again
        await gateway.SetPriceAsync(sol, 90m);
        var second = await http.PostAsync("/agent/batch-open", new { agentId, symbol = sol, action = "LONG", weight = 50, leverage = 1 }).OkAsync();
        Assert.Equal(2, second["successful"]!.GetValue<int>());
        await BalancesMatchAsync();
        var close = await http.PostAsync("/agent/batch-close", new { agentId, batchId = second["batchId"]!.GetValue<string>() }).OkAsync();
        Assert.Equal(2, close["successful"]!.GetValue<int>());
        Assert.Equal(0, close["skipped"]!.GetValue<int>());
        foreach (var result in close["results"]!.AsArray().Select(r => r!["result"]!))
        {
            Assert.Matches("^0x[0-9a-f]{64}$", result["txHash"]!.GetValue<string>());
            if (gateway.OnChain) await chain.AssertSucceededAsync(result["txHash"]!.GetValue<string>());
        }
        Assert.Empty(await PositionsAsync());
        await BalancesMatchAsync();
        var again = await http.PostAsync("/agent/batch-close", new { agentId, batchId = second["batchId"]!.GetValue<string>() },
            new Dictionary<string, string> { ["Idempotency-Key"] = "close-again" }).OkAsync();
        Assert.Equal(2, again["skipped"]!.GetValue<int>());

        // one FLAT fee per successful subscriber per batch
        var fees = await http.GetJsonAsync($"/api/v1/fees/{feeAddress}").OkAsync();
        Assert.Equal(0.4m, fees["totalUsdc"]!.GetValue<decimal>());
    }

    /// <summary>Quotes, signs the returned typed data with ethers, and returns the body to submit.</summary>
    public static async Task<(JsonObject Body, JsonNode Quote)> SignedAsync(HttpClient http, Guid agentId, string key, string quotePath, JsonObject fields)
    {
        var query = string.Join("&", fields.Select(f => $"{f.Key}={Uri.EscapeDataString(f.Value is JsonArray a ? a.ToJsonString() : f.Value!.ToString())}"));
        var quote = await http.GetJsonAsync($"/agents/{agentId}/{quotePath}?{query}").OkAsync();
        var signature = await Ethers.SignAsync(quote["typedData"]!, key);
        var body = (JsonObject)fields.DeepClone();
        body["nonce"] = quote["nonce"]!.GetValue<long>();
        body["signature"] = signature;
        return (body, quote);
    }
}
