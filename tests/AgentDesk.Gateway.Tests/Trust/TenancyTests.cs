using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>
/// A hostile tenant: an operator of organisation A tries every resource of organisation B. Each answer is the one
/// B's resource would give if it did not exist (404), and B's money does not move. docs/security.md lists each row.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class TenancyTests(GatewayFixture gateway)
{
    private async Task<(OrgWorld A, OrgWorld B, string BAgent, string BAccount, JsonNode BBatch, string Symbol)> TwoOrganisationsAsync()
    {
        var a = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("A")));
        var b = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("B")));
        var symbol = TestData.NewSymbol();
        var bAgent = await b.AgentAsync();
        var bAccount = await b.AccountAsync("1000", subscribeTo: bAgent);
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        var bBatch = await b.BatchOpenAsync(bAgent, symbol, stopLoss: 90);
        return (a, b, bAgent, bAccount, bBatch, symbol);
    }

    [Fact]
    public async Task Another_organisations_customer_account_cannot_be_read_funded_subscribed_or_drained()
    {
        var (a, b, _, bAccount, _, symbol) = await TwoOrganisationsAsync();
        var before = await b.Http.GetJsonAsync($"/api/v1/accounts/{bAccount}").OkAsync();

        await a.Http.GetJsonAsync($"/api/v1/accounts/{bAccount}").ProblemAsync(404, "account_not_found");
        await a.Http.PostAsync($"/api/v1/accounts/{bAccount}/deposits", new { amount = "5" }).ProblemAsync(404, "account_not_found");
        // The drain: A's agent with the highest fee the platform allows, B's account as its subscriber.
        await a.Http.PostAsync("/agent/register", new
        {
            agentId = Guid.NewGuid(), agentFees = new { drain = new { fee = 994, feeAddress = TestData.NewAddress(), type = "FLAT" } },
        }).ProblemAsync(400, "fee_too_high");
        var aAgent = await a.AgentAsync(agentFees: new { owner = new { fee = 10, feeAddress = TestData.NewAddress(), type = "FLAT" } });
        await a.Http.PostAsync($"/api/v1/agents/{aAgent}/subscribers", new { smartAccount = bAccount }).ProblemAsync(404, "account_not_found");
        var batch = await a.BatchOpenAsync(aAgent, symbol);
        Assert.Empty(batch["results"]!.AsArray());

        var after = await b.Http.GetJsonAsync($"/api/v1/accounts/{bAccount}").OkAsync();
        Assert.Equal(before.ToJsonString(), after.ToJsonString());
    }

    [Fact]
    public async Task Another_organisations_agent_batches_and_positions_are_not_found()
    {
        var (a, b, bAgent, bAccount, bBatch, _) = await TwoOrganisationsAsync();
        var batchId = bBatch["batchId"]!.GetValue<string>();
        var positionId = bBatch["results"]![0]!["result"]!["positionId"]!.GetValue<string>();

        await a.Http.GetJsonAsync($"/api/v1/agents/{bAgent}").ProblemAsync(404, "agent_not_found");
        await a.Http.GetJsonAsync($"/api/v1/agent-positions/{bAgent}").ProblemAsync(404, "agent_not_found");
        await a.Http.GetJsonAsync($"/api/v1/agents/{bAgent}/subscribers").ProblemAsync(404, "agent_not_found");
        await a.Http.GetJsonAsync($"/api/v1/batches/{batchId}").ProblemAsync(404, "batch_not_found");
        await a.Http.PostAsync("/agent/batch-open", new { agentId = bAgent, symbol = "SOL", action = "LONG", weight = 10, leverage = 2 }).ProblemAsync(404, "agent_not_found");
        await a.Http.PostAsync("/agent/batch-close", new { agentId = bAgent, batchId }).ProblemAsync(404, "agent_not_found");
        var close = await a.Http.PostAsync($"/api/v1/agent-positions/{bAgent}/{positionId}/close", new { reason = "manual" });
        Assert.Equal(404, close.Status);
        Assert.Equal("""{"error":"Position not found"}""", close.Body!.ToJsonString());
        await a.Http.DeleteJsonAsync($"/api/v1/agents/{bAgent}/subscribers/{bAccount}").ProblemAsync(404, "agent_not_found");
        await a.Http.PostAsync($"/api/v1/agents/{bAgent}/pause", new { }).ProblemAsync(404, "agent_not_found");

        // B still has its subscriber, its open position and a running agent.
        Assert.Equal(1, (await b.Http.GetJsonAsync($"/api/v1/agents/{bAgent}/subscribers").OkAsync())["subscriberCount"]!.GetValue<int>());
        Assert.Single((await b.Http.GetJsonAsync($"/api/v1/agent-positions/{bAgent}").OkAsync()).AsArray());
        Assert.False((await b.Http.GetJsonAsync($"/api/v1/agents/{bAgent}").OkAsync())["paused"]!.GetValue<bool>());

        // Closed by hand by B, its answer is B's: A asking the same close is told of no position, not the sale.
        await b.Http.PostAsync($"/api/v1/agent-positions/{bAgent}/{positionId}/close", new { reason = "manual" }).OkAsync();
        var retried = await a.Http.PostAsync($"/api/v1/agent-positions/{bAgent}/{positionId}/close", new { reason = "manual" });
        Assert.Equal(404, retried.Status);
        Assert.Equal("""{"error":"Position not found"}""", retried.Body!.ToJsonString());
    }

    [Fact]
    public async Task Another_organisations_vaults_and_fee_ledgers_are_not_found()
    {
        var a = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("A")));
        var bOrganisation = TestData.NewOrganization("B");
        var b = new OrgWorld(await gateway.KeyAsync("operator", bOrganisation));
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        var bVaultAddress = TestData.NewAddress();
        await b.Http.PostAsync("/api/v1/vaults", new { vaultId, address = bVaultAddress, name = "B's" }).OkAsync();
        await b.Http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = TestData.NewAddress(), decimals = 18 }).OkAsync();
        var feeAddress = TestData.NewAddress();
        var bAgent = await b.AgentAsync(agentFees: new { owner = new { fee = 1, feeAddress, type = "FLAT" } });
        var symbol = TestData.NewSymbol();
        await b.AccountAsync("100", subscribeTo: bAgent);
        await OrgWorld.PriceAsync(gateway.Http, symbol, "10");
        await b.BatchOpenAsync(bAgent, symbol);
        Assert.Equal(1m, (await b.Http.GetJsonAsync($"/api/v1/fees/{feeAddress}").OkAsync())["totalUsdc"]!.GetValue<decimal>());

        await a.Http.GetJsonAsync($"/api/v1/vaults/{vaultId}").ProblemAsync(404, "vault_not_found");
        await a.Http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/TSLA", new { address = TestData.NewAddress(), decimals = 18 }).ProblemAsync(404, "vault_not_found");
        var aAgent = await a.AgentAsync();
        await gateway.Http.SendAsync(HttpMethod.Put, $"/api/v1/agents/{aAgent}/vault", new { vaultId, allocationUsdc = "1" }).ProblemAsync(404, "vault_not_found");
        // Vault ids are global (the public allowlist names them): taking B's id is a conflict, not a takeover.
        await a.Http.PostAsync("/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "mine" }).ProblemAsync(409, "vault_exists");
        // B's vault contract (its address is public) cannot become A's vault under another id: A's agents would trade B's
        // capital. Nor can B open a second vault on it, which would count its capital twice. The address reads either way.
        var aVaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        await a.Http.PostAsync("/api/v1/vaults", new { vaultId = aVaultId, address = bVaultAddress.ToUpperInvariant().Replace("0X", "0x") }).ProblemAsync(409, "vault_address_taken");
        await b.Http.PostAsync("/api/v1/vaults", new { vaultId = aVaultId, address = bVaultAddress }).ProblemAsync(409, "vault_address_taken");
        await a.Http.GetJsonAsync($"/api/v1/vaults/{aVaultId}").ProblemAsync(404, "vault_not_found");
        // B's own retry of its creation is still the same vault.
        await b.Http.PostAsync("/api/v1/vaults", new { vaultId, address = bVaultAddress, name = "B's" }).OkAsync();
        await a.Http.GetJsonAsync($"/api/v1/fees/{feeAddress}").ProblemAsync(404, "fee_ledger_not_found");
        Assert.Single((await b.Http.GetJsonAsync($"/api/v1/vaults/{vaultId}").OkAsync())["tokens"]!.AsArray());
    }

    [Fact]
    public async Task Risk_settings_need_the_admin_or_a_risk_key_of_the_agents_organisation()
    {
        var organisation = TestData.NewOrganization("R");
        var operatorKey = new OrgWorld(await gateway.KeyAsync("operator", organisation));
        var risk = await gateway.KeyAsync("risk", organisation);
        var otherRisk = await gateway.KeyAsync("risk", TestData.NewOrganization("X"));
        var agent = await operatorKey.AgentAsync();
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        await operatorKey.Http.PostAsync("/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "V", capitalUsdc = "100" }).ProblemAsync(403, "forbidden");
        await operatorKey.Http.PostAsync("/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "V" }).OkAsync();

        await operatorKey.Http.PutAsync($"/api/v1/agents/{agent}/track", new { track = "Prime" }).ProblemAsync(403, "forbidden");
        await operatorKey.Http.PutAsync($"/api/v1/agents/{agent}/vault", new { vaultId, allocationUsdc = "1000" }).ProblemAsync(403, "forbidden");
        await operatorKey.Http.PutAsync($"/api/v1/vaults/{vaultId}/capital", new { capitalUsdc = "1000" }).ProblemAsync(403, "forbidden");
        await otherRisk.PutAsync($"/api/v1/agents/{agent}/track", new { track = "Prime" }).ProblemAsync(404, "agent_not_found");

        await risk.PutAsync($"/api/v1/vaults/{vaultId}/capital", new { capitalUsdc = "1000" }).OkAsync();
        await risk.PutAsync($"/api/v1/agents/{agent}/vault", new { vaultId, allocationUsdc = "1001" }).ProblemAsync(409, "allocation_exceeds_capital");
        Assert.Equal(1000m, (await risk.PutAsync($"/api/v1/agents/{agent}/vault", new { vaultId, allocationUsdc = "1000" }).OkAsync())["allocationUsdc"]!.GetValue<decimal>());
        Assert.Equal("Prime", (await risk.PutAsync($"/api/v1/agents/{agent}/track", new { track = "Prime" }).OkAsync())["track"]!.GetValue<string>());

        // Amounts a vault cannot hold are refused, never a 500; creating the vault again with another capital is not a retry.
        await risk.PutAsync($"/api/v1/agents/{agent}/vault", new { vaultId, allocationUsdc = "79228162514264337593543950335" }).ProblemAsync(400, "invalid_amount");
        await risk.PutAsync($"/api/v1/vaults/{vaultId}/capital", new { capitalUsdc = "1000.1234567" }).ProblemAsync(400, "invalid_amount");
        await operatorKey.Http.PostAsync("/api/v1/vaults", new { vaultId, address = TestData.NewAddress(), name = "V" }).ProblemAsync(409, "vault_exists");

        // Moving the agent to another vault gives its allocation back to the first: that capital can go to others again.
        var next = "v-" + Guid.NewGuid().ToString("N")[..8];
        await operatorKey.Http.PostAsync("/api/v1/vaults", new { vaultId = next, address = TestData.NewAddress(), name = "W" }).OkAsync();
        await risk.PutAsync($"/api/v1/vaults/{next}/capital", new { capitalUsdc = "500" }).OkAsync();
        await risk.PutAsync($"/api/v1/agents/{agent}/vault", new { vaultId = next, allocationUsdc = "500" }).OkAsync();
        var left = await operatorKey.Http.GetJsonAsync($"/api/v1/vaults/{vaultId}").OkAsync();
        Assert.Empty(left["allocations"]!.AsObject());
        await risk.PutAsync($"/api/v1/vaults/{vaultId}/capital", new { capitalUsdc = "0" }).OkAsync();
        Assert.Equal(500m, (await operatorKey.Http.GetJsonAsync($"/api/v1/vaults/{next}").OkAsync())["allocations"]![agent]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Only_the_admin_manages_keys_and_an_operator_pauses_only_its_own_agents()
    {
        var organisation = TestData.NewOrganization("K");
        var operatorKey = await gateway.KeyAsync("operator", organisation);
        await operatorKey.GetJsonAsync("/api/v1/api-keys").ProblemAsync(403, "forbidden");
        await operatorKey.PostAsync("/api/v1/api-keys", new { role = "operator", organization = organisation }).ProblemAsync(403, "forbidden");
        await operatorKey.DeleteJsonAsync("/api/v1/api-keys/key_0000").ProblemAsync(403, "forbidden");
        var agent = await new OrgWorld(operatorKey).AgentAsync();
        Assert.True((await operatorKey.PostAsync($"/api/v1/agents/{agent}/pause", new { }).OkAsync())["paused"]!.GetValue<bool>());
        Assert.False((await operatorKey.PostAsync($"/api/v1/agents/{agent}/resume", new { }).OkAsync())["paused"]!.GetValue<bool>());
    }
}
