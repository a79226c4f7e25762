using AgentDesk.Testing;
using System.Text.Json.Nodes;

namespace AgentDesk.Gateway.Tests;

/// <summary>Every kind of bad input gets a problem with a code, and changes nothing.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ErrorTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    [Fact]
    public async Task Batch_open_input_errors_each_have_a_code_and_change_nothing()
    {
        var agentId = Guid.NewGuid().ToString();
        var symbol = TestData.NewSymbol();
        await _http.PostAsync("/agent/register", new { agentId }).OkAsync();
        var account = TestData.NewAddress();
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
        await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();

        await _http.SendAsync(HttpMethod.Post, "/agent/batch-open", rawBody: "{\"agentId\": ").ProblemAsync(400, "malformed_json");
        var wrongType = await _http.SendAsync(HttpMethod.Post, "/agent/batch-open", rawBody: $"{{\"agentId\":\"{agentId}\",\"symbol\":\"SOL\",\"action\":\"LONG\",\"weight\":\"lots\",\"leverage\":2}}")
            .ProblemAsync(400, "invalid_type");
        Assert.Equal("weight", wrongType["field"]!.GetValue<string>());
        await _http.PostAsync("/agent/batch-open", new { agentId = Guid.NewGuid(), symbol, action = "LONG", weight = 50, leverage = 2 }).ProblemAsync(404, "agent_not_found");
        await _http.PostAsync("/agent/batch-open", new { agentId = "not-a-uuid", symbol, action = "LONG", weight = 50, leverage = 2 }).ProblemAsync(400, "invalid_agent_id");
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 50, leverage = 2 }).ProblemAsync(400, "no_price");
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "50" } } }).OkAsync();
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 0, leverage = 2 }).ProblemAsync(400, "invalid_weight");
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 100.5, leverage = 2 }).ProblemAsync(400, "invalid_weight");
        var lowLeverage = await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 50, leverage = 1.05 }).ProblemAsync(400, "leverage_too_low");
        Assert.Equal("1.1", lowLeverage["minimum"]!.GetValue<string>());
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "SIDEWAYS", weight = 50, leverage = 2 }).ProblemAsync(400, "invalid_action");
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol = "SOL/USD", action = "LONG", weight = 50, leverage = 2 }).ProblemAsync(400, "invalid_symbol");
        await _http.PostAsync("/agent/batch-open", new { agentId, symbol, action = "LONG", weight = 50, leverage = 2, orderOptions = new { stopLossPrice = 60 } })
            .ProblemAsync(400, "invalid_stop_loss_price");

        var view = await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
        Assert.Equal(100m, view["freeUsdc"]!.GetValue<decimal>());
        Assert.Empty(view["openPositionKeys"]!.AsArray());
    }

    [Theory]
    [InlineData("POST", "trade-intents")]
    [InlineData("POST", "add-intents")]
    [InlineData("POST", "reduce-intents")]
    [InlineData("POST", "exit-ladder-intents")]
    [InlineData("GET", "trade-intents/quote?symbol=SOL&usdcAmount=10")]
    [InlineData("GET", "reduce-intents?symbol=SOL&tokenAmount=1")]
    public async Task An_intent_route_answers_404_for_an_agent_never_registered_and_400_for_an_id_that_is_not_one(string method, string path)
    {
        // The intent routes do not look the agent up first: the agent grain itself refuses an agent that is not registered.
        var exits = new[] { new { triggerType = "StopLoss", triggerBps = -500, exitBps = 10_000 } };
        var deadline = DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds();
        var signature = "0x" + new string('1', 130);
        object body = path switch
        {
            "trade-intents" => new { symbol = "SOL", usdcAmount = "10", exits, deadline, nonce = 0, signature },
            "add-intents" => new { symbol = "SOL", usdcAmount = "10", deadline, nonce = 0, signature },
            "reduce-intents" => new { symbol = "SOL", tokenAmount = "1", deadline, nonce = 0, signature },
            _ => new { symbol = "SOL", exits, deadline, nonce = 0, signature },
        };
        Task<(int Status, JsonNode? Body)> Send(string agent) => method == "GET"
            ? _http.GetJsonAsync($"/agents/{agent}/{path}")
            : _http.PostAsync($"/agents/{agent}/{path}", body);

        var unknown = Guid.NewGuid();
        await Send(unknown.ToString()).ProblemAsync(404, "agent_not_found");
        await Send("not-a-uuid").ProblemAsync(400, "invalid_agent_id");
        await _http.GetJsonAsync($"/api/v1/agents/{unknown}").ProblemAsync(404, "agent_not_found"); // and nothing was registered by asking
    }

    [Fact]
    public async Task Account_vault_and_price_input_errors()
    {
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = "0x123" }).ProblemAsync(400, "invalid_address");
        var account = TestData.NewAddress();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "10" }).ProblemAsync(404, "account_not_found");
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "-5" }).ProblemAsync(400, "invalid_amount");
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "1.0000001" }).ProblemAsync(400, "invalid_amount");
        await _http.PostAsync("/api/v1/prices", new { prices = new object[] { new { symbol = "OK1", priceUsd = "1" }, new { symbol = "BAD", priceUsd = "0" } } })
            .ProblemAsync(400, "invalid_price");
        Assert.Null((await _http.GetJsonAsync("/prices?symbols=OK1").OkAsync())["prices"]!.AsArray().FirstOrDefault()); // nothing of the bad push was published
        await _http.PostAsync("/api/v1/vaults", new { vaultId = "v x", address = TestData.NewAddress() }).ProblemAsync(400, "invalid_vault_id");
        await _http.GetJsonAsync("/vaults/no-such-vault/tokens").ProblemAsync(404, "vault_not_found");
        await _http.PostAsync($"/api/v1/agents/{Guid.NewGuid()}/subscribers", new { smartAccount = account }).ProblemAsync(404, "agent_not_found");
    }

    [Fact]
    public async Task Signed_intent_errors_name_the_problem_and_leave_the_nonce_unspent()
    {
        var (agentId, key, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        JsonArray StopLoss(int exitBps = 10000) => new(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = exitBps });
        JsonObject Open(string usdc = "100", JsonArray? exits = null, long? deadline = null) => new()
        {
            ["symbol"] = symbol, ["usdcAmount"] = usdc, ["minTokenOut"] = "0", ["maxSlippageBps"] = 100,
            ["exits"] = exits ?? StopLoss(), ["deadline"] = deadline ?? AlphaGridStoryTests.Deadline,
        };

        // signed by another key
        var (otherKey, _) = TestData.NewKey();
        var (forged, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, otherKey, "trade-intents/quote", Open());
        await _http.PostAsync($"/agents/{agentId}/trade-intents", forged).ProblemAsync(400, "invalid_signature");

        // signed, then a field changed
        var (tampered, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open());
        tampered["usdcAmount"] = "101";
        await _http.PostAsync($"/agents/{agentId}/trade-intents", tampered).ProblemAsync(400, "invalid_signature");

        // a nonce from the future
        var (ahead, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open());
        ahead["nonce"] = 5;
        await _http.PostAsync($"/agents/{agentId}/trade-intents", ahead).ProblemAsync(400, "invalid_signature"); // the nonce is part of what was signed

        var (expired, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open(deadline: DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds()));
        await _http.PostAsync($"/agents/{agentId}/trade-intents", expired).ProblemAsync(400, "deadline_expired");

        // A ladder that can never be valid is refused by the quote already.
        await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&exits={Uri.EscapeDataString(StopLoss(exitBps: 5000).ToJsonString())}")
            .ProblemAsync(400, "last_rule_must_exit_all");

        var tooWide = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -1500, ["exitBps"] = 10000 });
        var (wide, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open(exits: tooWide));
        var wideProblem = await _http.PostAsync($"/agents/{agentId}/trade-intents", wide).ProblemAsync(400, "stop_loss_out_of_bounds");
        Assert.Equal("1000", wideProblem["maxStopLossBps"]!.GetValue<string>());

        var (tooBig, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open(usdc: "1000.01"));
        var limit = await _http.PostAsync($"/agents/{agentId}/trade-intents", tooBig).ProblemAsync(400, "track_trade_size_exceeded");
        Assert.Equal("1000", limit["headroomUsdc"]!.GetValue<string>());
        Assert.Equal("maxTradeSizeBps", limit["limit"]!.GetValue<string>());

        var notAllowed = (JsonObject)tampered.DeepClone();
        notAllowed["symbol"] = "TSLA";
        await _http.PostAsync($"/agents/{agentId}/trade-intents", notAllowed).ProblemAsync(400, "symbol_not_allowed");
        await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol=TSLA").ProblemAsync(400, "symbol_not_allowed");
        await _http.SendAsync(HttpMethod.Post, $"/agents/{agentId}/trade-intents", rawBody: "[1,2").ProblemAsync(400, "malformed_json");

        // nothing above spent the nonce; a correct intent now gets nonce 0, and a second open on the token is refused
        var (good, quote) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open());
        Assert.Equal(0, quote["nonce"]!.GetValue<long>());
        await _http.PostAsync($"/agents/{agentId}/trade-intents", good).OkAsync();
        var (second, secondQuote) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", Open());
        Assert.Equal(1, secondQuote["nonce"]!.GetValue<long>());
        await _http.PostAsync($"/agents/{agentId}/trade-intents", second).ProblemAsync(409, "position_already_open");

        // The accepted intent sent again is a retry: the same answer, and its nonce is not spent twice.
        var retried = await _http.PostAsync($"/agents/{agentId}/trade-intents", good.DeepClone()).OkAsync();
        Assert.Equal(0, retried["nonce"]!.GetValue<long>());
        Assert.Equal(1, (await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}").OkAsync())["nonce"]!.GetValue<long>());
    }
}
