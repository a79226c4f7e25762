using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>
/// The error codes the other tests do not reach, each provoked over HTTP the way a client would, each answered with its
/// code and status, and none changing anything.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class CodeTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    [Fact]
    public async Task Registration_errors_name_the_field_and_register_nothing()
    {
        var agentId = Guid.NewGuid().ToString();
        await _http.PostAsync("/agent/register", new { agentId, agentType = "FUTURES" }).ProblemAsync(400, "invalid_agent_type");
        await _http.PostAsync("/agent/register", new { agentId, description = new string('d', 2_001) }).ProblemAsync(400, "invalid_description");
        await _http.PostAsync("/agent/register", new { agentId, imageUrl = "not a url" }).ProblemAsync(400, "invalid_image_url");
        await _http.PostAsync("/agent/register", new { agentId, publicKey = "0x1234" }).ProblemAsync(400, "invalid_public_key");
        await _http.GetJsonAsync($"/api/v1/agents/{agentId}/subscribers").ProblemAsync(404, "agent_not_found");

        await _http.PostAsync("/agent/register", new { agentId }).OkAsync();
        await _http.PostAsync("/agent/register", new { agentId, name = "Another name" }).ProblemAsync(409, "agent_already_registered");
    }

    [Fact]
    public async Task Batch_exit_option_and_batch_id_errors_have_codes()
    {
        var world = new OrgWorld(_http);
        var agentId = await world.AgentAsync();
        var account = await world.AccountAsync("100", subscribeTo: agentId);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(_http, symbol, "50");
        object Open(object orderOptions) => new { agentId, symbol, action = "LONG", weight = 50, leverage = 2, orderOptions };

        await _http.PostAsync("/agent/batch-open", Open(new { stopLossPrice = -1 })).ProblemAsync(400, "invalid_exit_price");
        await _http.PostAsync("/agent/batch-open", Open(new { trailingStopPercentage = 150 })).ProblemAsync(400, "invalid_trailing_stop");
        await _http.PostAsync("/agent/batch-close", new { agentId, batchId = "yesterday's" }).ProblemAsync(400, "invalid_batch_id");
        await _http.GetJsonAsync("/api/v1/batches/not-a-batch").ProblemAsync(400, "invalid_batch_id");

        var view = await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
        Assert.Equal(100m, view["freeUsdc"]!.GetValue<decimal>());
        Assert.Empty(view["openPositionKeys"]!.AsArray());
    }

    [Fact]
    public async Task Key_and_price_push_errors_have_codes()
    {
        await _http.PostAsync("/api/v1/api-keys", new { role = "operator", organization = "has spaces" }).ProblemAsync(400, "invalid_organization");
        await _http.PostAsync("/api/v1/prices", new { prices = Array.Empty<object>() }).ProblemAsync(400, "invalid_prices");
        var keys = await _http.GetJsonAsync("/api/v1/api-keys").OkAsync();
        Assert.DoesNotContain(keys.AsArray(), k => k!["organization"]!.GetValue<string>() == "has spaces");
    }

    [Fact]
    public async Task Intent_field_errors_have_codes_and_spend_no_nonce()
    {
        var (agentId, key, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        var stopLoss = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 });
        var (good, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "100", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = stopLoss,
            ["deadline"] = AlphaGridStoryTests.Deadline,
        });
        JsonObject Without(string field)
        {
            var body = (JsonObject)good.DeepClone();
            body.Remove(field);
            return body;
        }
        JsonObject With(string field, JsonNode value)
        {
            var body = (JsonObject)good.DeepClone();
            body[field] = value;
            return body;
        }

        await _http.PostAsync($"/agents/{agentId}/trade-intents", Without("nonce")).ProblemAsync(400, "invalid_nonce");
        await _http.PostAsync($"/agents/{agentId}/trade-intents", With("nonce", -1)).ProblemAsync(400, "invalid_nonce");
        await _http.PostAsync($"/agents/{agentId}/trade-intents", Without("deadline")).ProblemAsync(400, "invalid_deadline");
        await _http.PostAsync($"/agents/{agentId}/trade-intents", With("maxSlippageBps", 20_000)).ProblemAsync(400, "invalid_slippage");
        await _http.PostAsync($"/agents/{agentId}/trade-intents", With("exits", new JsonArray(new JsonObject
        {
            ["triggerType"] = "Sideways", ["triggerBps"] = -500, ["exitBps"] = 10000,
        }))).ProblemAsync(400, "invalid_type");
        await _http.PostAsync($"/agents/{agentId}/trade-intents", With("exits", new JsonArray(new JsonObject
        {
            ["triggerType"] = 7, ["triggerBps"] = -500, ["exitBps"] = 10000,
        }))).ProblemAsync(400, "invalid_exit_rule");
        await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&exits=%7Bnot-json").ProblemAsync(400, "invalid_exits");
        await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&maxSlippageBps=lots").ProblemAsync(400, "invalid_slippage");
        await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&deadline=tomorrow").ProblemAsync(400, "invalid_deadline");

        // Adding to, or reducing, a position that does not exist is refused before any signature work.
        var (add, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "add-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
        });
        await _http.PostAsync($"/agents/{agentId}/add-intents", add).ProblemAsync(404, "position_not_found");

        // None of that spent the nonce: the good intent still opens at nonce 0.
        Assert.Equal(0, (await _http.PostAsync($"/agents/{agentId}/trade-intents", good).OkAsync())["nonce"]!.GetValue<long>());
    }

    [Fact]
    public async Task Intents_need_a_signer_a_vault_and_an_allocation()
    {
        var (_, signer) = TestData.NewKey();
        var noSigner = Guid.NewGuid().ToString();
        await _http.PostAsync("/agent/register", new { agentId = noSigner, agentType = "SWAP" }).OkAsync();
        var body = new JsonObject
        {
            ["symbol"] = "AAPL", ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
            ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 }),
            ["nonce"] = 0, ["signature"] = "0x" + new string('1', 130),
        };
        await _http.PostAsync($"/agents/{noSigner}/trade-intents", body).ProblemAsync(400, "no_signer");

        var noVault = Guid.NewGuid().ToString();
        await _http.PostAsync("/agent/register", new { agentId = noVault, agentType = "SWAP", signerAddress = signer }).OkAsync();
        await _http.GetJsonAsync($"/agents/{noVault}/trade-intents/quote?symbol=AAPL").ProblemAsync(400, "no_vault");

        // Bound to a vault with a zero allocation: the quote shows it, and a signed open is refused.
        var (agentId, agentKey, symbol, vaultId) = await AlphaGridStoryTests.SetUpAsync(_http);
        await _http.PutAsync($"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "0" }).OkAsync();
        var (open, quote) = await AlphaGridStoryTests.SignedAsync(_http, agentId, agentKey, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
            ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 }),
        });
        Assert.Equal(0m, quote["allocation"]!["allocationUsdc"]!.GetValue<decimal>());
        await _http.PostAsync($"/agents/{agentId}/trade-intents", open).ProblemAsync(400, "no_allocation");
    }

    [Fact]
    public async Task A_token_held_by_an_open_position_cannot_be_repointed_and_a_trade_smaller_than_one_unit_is_refused()
    {
        var (agentId, key, symbol, vaultId) = await AlphaGridStoryTests.SetUpAsync(_http);
        var stopLoss = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 });
        var (open, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "100", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = stopLoss.DeepClone(),
            ["deadline"] = AlphaGridStoryTests.Deadline,
        });
        await _http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        var tokens = await _http.GetJsonAsync($"/vaults/{vaultId}/tokens").OkAsync();
        var address = tokens["tokens"]!.AsArray().Single(t => t!["symbol"]!.GetValue<string>() == symbol)!["address"]!.GetValue<string>();
        await _http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/{symbol}", new { address = TestData.NewAddress(), decimals = 18 }).ProblemAsync(409, "token_in_use");
        var after = await _http.GetJsonAsync($"/vaults/{vaultId}/tokens").OkAsync();
        Assert.Equal(address, after["tokens"]!.AsArray().Single(t => t!["symbol"]!.GetValue<string>() == symbol)!["address"]!.GetValue<string>());

        // A whole-unit token (0 decimals) at 1,000 USDC: 10 USDC buys a hundredth of a unit, which cannot be delivered.
        var (wholeAgent, wholeKey, _, wholeVault) = await AlphaGridStoryTests.SetUpAsync(_http);
        var whole = TestData.NewSymbol();
        await _http.PutAsync($"/api/v1/vaults/{wholeVault}/tokens/{whole}", new { address = TestData.NewAddress(), decimals = 0 }).OkAsync();
        await OrgWorld.PriceAsync(_http, whole, "1000");
        var (tiny, _) = await AlphaGridStoryTests.SignedAsync(_http, wholeAgent, wholeKey, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = whole, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = stopLoss.DeepClone(),
            ["deadline"] = AlphaGridStoryTests.Deadline,
        });
        await _http.PostAsync($"/agents/{wholeAgent}/trade-intents", tiny).ProblemAsync(400, "size_too_small");
    }
}
