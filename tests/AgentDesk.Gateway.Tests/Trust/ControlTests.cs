using System.Globalization;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Intents;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>Credentials and kill switches: listing and revoking keys, expiry, rotating an agent's signer, pausing an agent.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ControlTests(GatewayFixture gateway)
{
    private readonly HttpClient _admin = gateway.Http;

    [Fact]
    public async Task Keys_are_listed_without_their_secret_and_a_revoked_key_stops_working_at_once()
    {
        var organisation = TestData.NewOrganization("K");
        var issued = await _admin.PostAsync("/api/v1/api-keys", new { role = "operator", organization = organisation }).OkAsync();
        var secret = issued["apiKey"]!.GetValue<string>();
        var keyId = issued["keyId"]!.GetValue<string>();
        using var key = gateway.Client(secret);
        await key.PostAsync("/api/v1/accounts", new { smartAccount = TestData.NewAddress() }).OkAsync();

        var listed = (await _admin.GetJsonAsync("/api/v1/api-keys").OkAsync()).AsArray().Single(k => k!["keyId"]!.GetValue<string>() == keyId)!;
        Assert.Equal("operator", listed["role"]!.GetValue<string>());
        Assert.Equal(organisation, listed["organization"]!.GetValue<string>());
        Assert.NotNull(listed["createdAt"]);
        Assert.Null(listed["revokedAt"]);
        Assert.DoesNotContain(secret, (await _admin.GetJsonAsync("/api/v1/api-keys").OkAsync()).ToJsonString(), StringComparison.Ordinal);

        Assert.NotNull((await _admin.DeleteJsonAsync($"/api/v1/api-keys/{keyId}").OkAsync())["revokedAt"]);
        await key.PostAsync("/api/v1/accounts", new { smartAccount = TestData.NewAddress() }).ProblemAsync(401, "invalid_credentials");
        await _admin.DeleteJsonAsync("/api/v1/api-keys/key_doesnotexist").ProblemAsync(404, "key_not_found");
    }

    [Fact]
    public async Task A_key_with_an_expiry_stops_working_after_it()
    {
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(5); // room to issue the key and use it once before it expires
        var issued = await _admin.PostAsync("/api/v1/api-keys", new { role = "operator", organization = TestData.NewOrganization("E"), expiresAt }).OkAsync();
        using var key = gateway.Client(issued["apiKey"]!.GetValue<string>());
        await key.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found");
        var expired = await Eventually.WaitForAsync(() => key.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}"), r => r.Status == 401,
            TimeSpan.FromSeconds(30), "the key to expire");
        Assert.Equal("invalid_credentials", expired.Body!["code"]!.GetValue<string>());
        Assert.True(DateTimeOffset.UtcNow >= expiresAt);
        await _admin.PostAsync("/api/v1/api-keys", new { role = "operator", organization = "O", expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) })
            .ProblemAsync(400, "invalid_expiry");
    }

    [Fact]
    public async Task The_admin_or_the_current_signer_rotates_the_signer_and_an_old_rotation_cannot_be_replayed()
    {
        var (agentId, oldKey, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_admin);
        var (newKey, newSigner) = TestData.NewKey();
        var (_, thirdSigner) = TestData.NewKey();
        using var anonymous = gateway.Client();

        // Signed by the current signer: the rotation spends a nonce, so it cannot be replayed later.
        var rotation = await SignedRotationAsync(agentId, symbol, newSigner, nonce: 0, oldKey);
        // A broken recovery byte (v = 0xff): "00" would be refused only half the time, since v 0/1 and 27/28 are equivalent.
        await anonymous.PutAsync($"/api/v1/agents/{agentId}/signer", rotation with { Signature = rotation.Signature![..^2] + "ff" })
            .ProblemAsync(400, "invalid_signature");
        Assert.Equal(newSigner, (await anonymous.PutAsync($"/api/v1/agents/{agentId}/signer", rotation).OkAsync())["signerAddress"]!.GetValue<string>());
        await anonymous.PutAsync($"/api/v1/agents/{agentId}/signer", rotation).ProblemAsync(400, "invalid_signature"); // no longer the signer's
        // The old signer's intents are refused, the new one's accepted.
        var exits = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10_000 });
        JsonObject Open() => new() { ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits.DeepClone(), ["deadline"] = AlphaGridStoryTests.Deadline };
        var (byOld, _) = await AlphaGridStoryTests.SignedAsync(_admin, agentId, oldKey, "trade-intents/quote", Open());
        await anonymous.PostAsync($"/agents/{agentId}/trade-intents", byOld).ProblemAsync(400, "invalid_signature");
        var (byNew, quote) = await AlphaGridStoryTests.SignedAsync(_admin, agentId, newKey, "trade-intents/quote", Open());
        Assert.Equal(1, quote["nonce"]!.GetValue<long>());
        await anonymous.PostAsync($"/agents/{agentId}/trade-intents", byNew).OkAsync();

        // The admin rotates without a signature; an operator cannot.
        using var operatorKey = await gateway.KeyAsync("operator", GatewayFixture.AdminOrganization);
        await operatorKey.PutAsync($"/api/v1/agents/{agentId}/signer", new { signerAddress = thirdSigner }).ProblemAsync(400, "invalid_signature");
        Assert.Equal(thirdSigner, (await _admin.PutAsync($"/api/v1/agents/{agentId}/signer", new { signerAddress = thirdSigner }).OkAsync())["signerAddress"]!.GetValue<string>());
    }

    private sealed record Rotation(string SignerAddress, string Deadline, string Nonce, string? Signature);

    /// <summary>The current signer's EIP-712 RotateSigner, under the domain the agent's quotes use (docs/intents.md).</summary>
    private async Task<Rotation> SignedRotationAsync(string agentId, string symbol, string newSigner, long nonce, string key)
    {
        var domain = (await _admin.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol={symbol}").OkAsync())["typedData"]!["domain"]!;
        var deadline = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var typedData = new JsonObject
        {
            ["domain"] = domain.DeepClone(),
            ["primaryType"] = "RotateSigner",
            ["types"] = new JsonObject
            {
                ["RotateSigner"] = new JsonArray(
                    new JsonObject { ["name"] = "agentId", ["type"] = "uint256" }, new JsonObject { ["name"] = "newSigner", ["type"] = "address" },
                    new JsonObject { ["name"] = "deadline", ["type"] = "uint256" }, new JsonObject { ["name"] = "nonce", ["type"] = "uint256" }),
            },
            ["message"] = new JsonObject
            {
                ["agentId"] = AgentIds.ToUint256(Guid.Parse(agentId)).ToString(CultureInfo.InvariantCulture), ["newSigner"] = newSigner,
                ["deadline"] = deadline, ["nonce"] = nonce.ToString(CultureInfo.InvariantCulture),
            },
        };
        return new Rotation(newSigner, deadline, nonce.ToString(CultureInfo.InvariantCulture), await Ethers.SignAsync(typedData, key));
    }

    [Fact]
    public async Task A_paused_agent_takes_no_batch_and_no_intent_while_its_positions_exits_keep_running()
    {
        var world = new OrgWorld(_admin);
        var agent = await world.AgentAsync();
        var account = await world.AccountAsync("100", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(_admin, symbol, "100");
        await world.BatchOpenAsync(agent, symbol, stopLoss: 90);

        Assert.True((await _admin.PostAsync($"/api/v1/agents/{agent}/pause", new { }).OkAsync())["paused"]!.GetValue<bool>());
        await _admin.PostAsync("/agent/batch-open", new { agentId = agent, symbol, action = "LONG", weight = 10, leverage = 2 }).ProblemAsync(409, "agent_paused");
        await OrgWorld.PriceAsync(_admin, symbol, "89");
        await Eventually.WaitForAsync(() => _admin.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync(), a => a["lockedUsdc"]!.GetValue<decimal>() == 0,
            what: "the paused agent's stop to close the position");

        var (intentAgent, key, intentSymbol, _) = await AlphaGridStoryTests.SetUpAsync(_admin);
        var (open, _) = await AlphaGridStoryTests.SignedAsync(_admin, intentAgent, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = intentSymbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
            ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10_000 }),
        });
        await _admin.PostAsync($"/api/v1/agents/{intentAgent}/pause", new { }).OkAsync();
        // Paused, the agent is told at the quote, before it signs anything, and an intent signed before is refused.
        await _admin.GetJsonAsync($"/agents/{intentAgent}/trade-intents/quote?symbol={intentSymbol}&usdcAmount=10").ProblemAsync(409, "agent_paused");
        await _admin.PostAsync($"/agents/{intentAgent}/trade-intents", open).ProblemAsync(409, "agent_paused");
        await _admin.PostAsync($"/api/v1/agents/{intentAgent}/resume", new { }).OkAsync();
        await _admin.PostAsync($"/agents/{intentAgent}/trade-intents", open).OkAsync();
    }
}
