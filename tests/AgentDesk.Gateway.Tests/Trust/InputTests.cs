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
}
