using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>Hostile input: every one answers a clear 4xx, none a 500, and none changes anything.</summary>
[Collection(GatewayCollection.Name)]
public sealed class InputTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    [Fact]
    public async Task An_overflowing_deposit_is_refused_before_anything_is_credited()
    {
        var account = await new OrgWorld(_http).AccountAsync("100");
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "79228162514264337593543950000" }).ProblemAsync(400, "amount_too_large");
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "792281625142643375935439503360" }).ProblemAsync(400, "invalid_amount");
        var tooLarge = await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "1000000001" }).ProblemAsync(400, "amount_too_large");
        Assert.Equal("1000000000", tooLarge["maximum"]!.GetValue<string>());
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "1e5" }).ProblemAsync(400, "invalid_amount");
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = 5 }).ProblemAsync(400, "invalid_type");
        Assert.Equal(100m, (await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync())["freeUsdc"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_deposit_id_reused_with_another_amount_is_a_conflict_and_a_retry_credits_once()
    {
        var account = await new OrgWorld(_http).AccountAsync("1");
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = "wire-7" };
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "50" }, headers).OkAsync();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "50" }, headers).OkAsync();
        var conflict = await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "60" }, headers).ProblemAsync(409, "idempotency_conflict");
        Assert.Equal("50", conflict["creditedUsdc"]!.GetValue<string>());
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "1", depositId = new string('x', 5_000) }).ProblemAsync(400, "invalid_id");
        Assert.Equal(51m, (await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync())["freeUsdc"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Fees_never_take_more_than_their_share_of_a_trade()
    {
        var world = new OrgWorld(_http);
        // The largest fees the caps allow: 10 USDC flat and 500 bps, on a 20 USDC subscriber at 2x.
        var agent = await world.AgentAsync(agentFees: new
        {
            flat = new { fee = 10, feeAddress = TestData.NewAddress(), type = "FLAT" },
            bps = new { fee = 500, feeAddress = TestData.NewAddress(), type = "BPS" },
        });
        var account = await world.AccountAsync("20", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(_http, symbol, "10");
        await world.BatchOpenAsync(agent, symbol);
        // 10 + 20 × 2 × 5% = 12 USDC of fees would be 60% of the trade; 5% of 20 is the most they may take, each fee
        // scaled down in proportion and floored (0.833333 + 0.166666).
        var view = await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
        var fees = view["feesPaidUsdc"]!.GetValue<decimal>();
        Assert.Equal(0.999999m, fees);
        Assert.Equal(20m - fees, view["lockedUsdc"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n")]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")] // one letter's case off: a checksum error
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00")]
    [InlineData(" 0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")]
    public async Task An_address_must_be_exactly_forty_hex_digits_and_mixed_case_must_carry_its_checksum(string address)
    {
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = address }).ProblemAsync(400, "invalid_address");
        await _http.PostAsync("/agent/register", new { agentId = Guid.NewGuid(), signerAddress = address }).ProblemAsync(400, "invalid_address");
    }

    [Fact]
    public async Task A_checksummed_address_and_its_lower_case_are_the_same_account()
    {
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed" }).OkAsync();
        await _http.GetJsonAsync("/api/v1/accounts/0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").OkAsync();
    }

    [Fact]
    public async Task Oversized_bodies_unknown_fields_and_wrong_types_are_refused_with_the_field_named()
    {
        var big = "{\"smartAccount\":\"" + new string('a', 70_000) + "\"}";
        await _http.SendAsync(HttpMethod.Post, "/api/v1/accounts", rawBody: big).ProblemAsync(413, "payload_too_large");
        var unknown = await _http.SendAsync(HttpMethod.Post, "/agent/batch-open",
            rawBody: $$"""{"agentId":"{{Guid.NewGuid()}}","symbol":"SOL","side":"LONG","weight":50,"leverage":2}""").ProblemAsync(400, "unknown_field");
        Assert.Equal("side", unknown["field"]!.GetValue<string>());
        var wrongType = await _http.SendAsync(HttpMethod.Post, "/agent/batch-open",
            rawBody: $$$"""{"agentId":"{{{Guid.NewGuid()}}}","symbol":"SOL","action":"LONG","weight":50,"leverage":2,"orderOptions":{"stopLossPrice":"low"}}""")
            .ProblemAsync(400, "invalid_type");
        Assert.Equal("orderOptions.stopLossPrice", wrongType["field"]!.GetValue<string>());
        Assert.Equal("a number", wrongType["expected"]!.GetValue<string>());
        await _http.SendAsync(HttpMethod.Post, "/api/v1/accounts", rawBody: "").ProblemAsync(400, "malformed_json");
        await _http.SendAsync(HttpMethod.Post, "/api/v1/accounts", rawBody: "[1,2]").ProblemAsync(400, "malformed_json");
        await _http.PostAsync("/agent/register", new { agentId = Guid.NewGuid(), name = new string('n', 201) }).ProblemAsync(400, "invalid_name");
        await _http.PostAsync("/agent/register", new { agentId = Guid.NewGuid(), ownerId = new string('o', 129) }).ProblemAsync(400, "invalid_name");
        await _http.PostAsync("/api/v1/vaults", new { vaultId = new string('v', 65), address = TestData.NewAddress() }).ProblemAsync(400, "invalid_vault_id");
        await _http.SendAsync(HttpMethod.Post, "/agent/batch-open", new { agentId = Guid.NewGuid(), symbol = "SOL", action = "LONG", weight = 50, leverage = 2 },
            headers: new Dictionary<string, string> { ["Idempotency-Key"] = new string('k', 129) }).ProblemAsync(404, "agent_not_found");
    }

    [Theory]
    [InlineData(70_000)]
    [InlineData(-1)]
    [InlineData(0)]
    public async Task An_impossible_exit_ladder_answers_400_on_the_public_quote_and_submit_endpoints(int exitBps)
    {
        var (agentId, _, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        var exits = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = exitBps });
        using var anonymous = gateway.Client();
        await anonymous.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&usdcAmount=10&exits={Uri.EscapeDataString(exits.ToJsonString())}")
            .ProblemAsync(400, "invalid_exit_bps");
        await anonymous.PostAsync($"/agents/{agentId}/trade-intents", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["exits"] = exits, ["deadline"] = AlphaGridStoryTests.Deadline, ["nonce"] = 0, ["signature"] = "0x" + new string('1', 130),
        }).ProblemAsync(400, "invalid_exit_bps");
        var tooMany = new JsonArray(Enumerable.Range(0, 17).Select(_ => (JsonNode)new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10_000 }).ToArray());
        await anonymous.PostAsync($"/agents/{agentId}/exit-ladder-intents", new JsonObject
        {
            ["symbol"] = symbol, ["exits"] = tooMany, ["deadline"] = AlphaGridStoryTests.Deadline, ["nonce"] = 0, ["signature"] = "0x" + new string('1', 130),
        }).ProblemAsync(400, "exit_ladder_too_long");
        Assert.Equal(0, (await anonymous.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}").OkAsync())["nonce"]!.GetValue<long>());
    }

    [Fact]
    public async Task What_a_quote_returns_is_accepted_by_the_submit_as_it_is()
    {
        var (agentId, key, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        var exits = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10_000 });
        var quote = await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&usdcAmount=10&minTokenOut=0&maxSlippageBps=100"
            + $"&exits={Uri.EscapeDataString(exits.ToJsonString())}").OkAsync();
        var message = quote["typedData"]!["message"]!;
        Assert.Equal(System.Text.Json.JsonValueKind.String, message["deadline"]!.GetValueKind());
        var signature = await Ethers.SignAsync(quote["typedData"]!, key);
        // deadline and nonce exactly as the quote's message has them: decimal strings.
        await _http.PostAsync($"/agents/{agentId}/trade-intents", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits,
            ["deadline"] = message["deadline"]!.DeepClone(), ["nonce"] = message["nonce"]!.DeepClone(), ["signature"] = signature,
        }).OkAsync();
    }

    [Fact]
    public async Task Null_entries_and_negative_integers_answer_400_not_500_and_change_nothing()
    {
        var (agentId, _, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        using var anonymous = gateway.Client();

        var unregistered = Guid.NewGuid().ToString();
        await _http.PostAsync("/agent/register", new JsonObject { ["agentId"] = unregistered, ["agentFees"] = new JsonObject { ["p"] = null } }).ProblemAsync(400, "invalid_fee");
        await _http.GetJsonAsync($"/api/v1/agents/{unregistered}").ProblemAsync(404, "agent_not_found");
        await _http.PostAsync("/api/v1/prices", JsonNode.Parse("""{"prices":[null]}""")).ProblemAsync(400, "invalid_prices");

        var nullRule = JsonNode.Parse("""[{"triggerType":"StopLoss","triggerBps":-500,"exitBps":10000},null]""")!;
        await anonymous.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&usdcAmount=10&exits={Uri.EscapeDataString(nullRule.ToJsonString())}")
            .ProblemAsync(400, "invalid_exit_rule");
        await anonymous.PostAsync($"/agents/{agentId}/trade-intents", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["exits"] = nullRule, ["deadline"] = AlphaGridStoryTests.Deadline, ["nonce"] = 0,
            ["signature"] = "0x" + new string('1', 130),
        }).ProblemAsync(400, "invalid_exit_rule");
        // A uint256 of the signed struct is never negative: refused before any signature is recovered.
        await anonymous.PutAsync($"/api/v1/agents/{agentId}/signer", new JsonObject
        {
            ["signerAddress"] = TestData.NewAddress(), ["deadline"] = -1, ["nonce"] = 0, ["signature"] = "0x" + new string('1', 130),
        }).ProblemAsync(400, "invalid_deadline");
        Assert.Equal(0, (await anonymous.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}").OkAsync())["nonce"]!.GetValue<long>());
    }

    [Theory]
    [InlineData("triggerPrice", "invalid_trigger_price")]
    [InlineData("stopLossPrice", "invalid_exit_price")]
    public async Task A_batch_price_no_feed_could_quote_is_refused_before_any_order_is_placed(string field, string code)
    {
        var world = new OrgWorld(_http);
        var agentId = await world.AgentAsync();
        var account = await world.AccountAsync("100", subscribeTo: agentId);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(_http, symbol, "100");
        // A SHORT's stop sits above the price, and an order placed above it fills when the price rises to it: both far past
        // any price a feed accepts, so the order could never fill and its trailing level would overflow every listing.
        await _http.PostAsync("/agent/batch-open", new JsonObject
        {
            ["agentId"] = agentId, ["symbol"] = symbol, ["action"] = "SHORT", ["weight"] = 50, ["leverage"] = 2,
            ["orderOptions"] = new JsonObject { [field] = 79_000_000_000_000_000_000_000_000_000m, ["trailingStopPercentage"] = 1 },
        }).ProblemAsync(400, code);
        Assert.Empty((await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray());
        Assert.Equal(100m, (await _http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync())["freeUsdc"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Trailing_zeros_in_an_amount_change_nothing_in_what_the_agent_signs()
    {
        var (agentId, _, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        async Task<JsonNode> MessageAsync(string usdcAmount, string minTokenOut) =>
            (await _http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}&usdcAmount={usdcAmount}&minTokenOut={minTokenOut}").OkAsync())["typedData"]!["message"]!;

        var plain = await MessageAsync("10.5", "0.5");
        var padded = await MessageAsync("10.50000000", "0.5000000000000000000"); // 19 places for an 18-decimal token
        Assert.Equal("10500000", plain["usdcAmount"]!.GetValue<string>());
        Assert.Equal("500000000000000000", plain["minTokenOut"]!.GetValue<string>());
        Assert.Equal(plain["usdcAmount"]!.ToJsonString(), padded["usdcAmount"]!.ToJsonString());
        Assert.Equal(plain["minTokenOut"]!.ToJsonString(), padded["minTokenOut"]!.ToJsonString());
    }
}
