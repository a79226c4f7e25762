using System.Numerics;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Testing;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;

namespace AgentDesk.Chain.Tests;

/// <summary>What the EVM venue does that the paper venue has no counterpart for: coalescing, on-chain refusals, nonces, prices.</summary>
[Collection(ChainCollection.Name)]
public sealed class VenueTests(ChainFixture chain)
{
    private const string Sol = "SOL";

    [Fact]
    public async Task A_batch_shares_transactions_and_each_subscriber_gets_its_own_outcome_from_the_chain()
    {
        // A lane waits 300 ms for the fan-out to arrive, so the batch's orders share transactions.
        await using var gateway = await VenueGateway.StartAsync("Evm", chain, "--AgentDesk:Evm:BatchLingerMs", "300");
        var http = gateway.Http;
        var agentId = Guid.NewGuid();
        await http.PostAsync("/agent/register", new { agentId, agentType = "SWAP" }).OkAsync();
        var consenting = new List<string>();
        for (var i = 0; i < 8; i++) consenting.Add(await SubscribeAsync(http, agentId, await chain.SubscriberAsync(agentId, 100m, Sol), 100m));
        // on-chain refusals: one never consented, one holds less USDC on-chain than its AgentDesk balance says
        var noConsent = await SubscribeAsync(http, agentId, await chain.SubscriberAsync(agentId, 100m, Sol, consent: false), 100m);
        var underfunded = await SubscribeAsync(http, agentId, await chain.SubscriberAsync(agentId, 10m, Sol), 100m);
        await gateway.SetPriceAsync(Sol, 50m);

        var batch = await http.PostAsync("/agent/batch-open", new { agentId, symbol = Sol, action = "LONG", weight = 50, leverage = 1 }).OkAsync();
        var results = batch["results"]!.AsArray().ToDictionary(r => r!["smartAccount"]!.GetValue<string>(), r => r!["result"]!);
        Assert.Equal(8, batch["successful"]!.GetValue<int>());
        Assert.Equal("consent_missing", results[noConsent]["code"]!.GetValue<string>());
        Assert.Equal("insufficient_funds", results[underfunded]["code"]!.GetValue<string>());
        var hashes = consenting.Select(a => results[a]["submitTxHash"]!.GetValue<string>()).ToList();
        Assert.True(hashes.Distinct().Count() < consenting.Count, $"{hashes.Distinct().Count()} transactions for {consenting.Count} orders");
        foreach (var account in consenting)
        {
            await chain.AssertSucceededAsync(results[account]["submitTxHash"]!.GetValue<string>());
            Assert.Equal(Math.Round(50m / 50.025m, 18, MidpointRounding.ToZero), await chain.TokenBalanceAsync(Sol, account)); // 50 USDC at 50 + 5 bps
        }
        // nothing moved for the refused subscribers, and AgentDesk kept their collateral free
        Assert.Equal(0m, await chain.TokenBalanceAsync(Sol, noConsent));
        Assert.Equal(100m, (await http.GetJsonAsync($"/api/v1/accounts/{noConsent}").OkAsync())["freeUsdc"]!.GetValue<decimal>());
        var positions = (await http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray();
        Assert.Equal(consenting.Order(), positions.Select(p => p!["walletAddress"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task The_relayer_recovers_when_the_node_refuses_its_nonce()
    {
        await using var gateway = await VenueGateway.StartAsync("Evm", chain);
        var http = gateway.Http;
        var (agentId, account) = await SwapAgentWithOneSubscriberAsync(gateway);
        var first = await http.PostAsync("/agent/batch-open", new { agentId, symbol = Sol, action = "LONG", weight = 10, leverage = 1 }).OkAsync();
        Assert.Equal(1, first["successful"]!.GetValue<int>());

        // Someone else used the executor key: the relayer's next nonce is now too low, and the node refuses it.
        var executor = new Nethereum.Signer.EthECKey(Venues.Evm.ExecutorKey.Read(chain.ExecutorKeyFile)).GetPublicAddress();
        var pending = await chain.Chain.NonceAsync(executor, BlockParameter.CreatePending());
        await chain.Chain.RpcAsync("anvil_setNonce", executor, new HexBigInteger(pending + 3).HexValue);

        var second = await http.PostAsync("/agent/batch-open", new { agentId, symbol = Sol, action = "LONG", weight = 10, leverage = 1 },
            new Dictionary<string, string> { ["Idempotency-Key"] = "after-nonce-jump" }).OkAsync();
        var result = second["results"]![0]!["result"]!;
        // A second batch-open of the same agent and symbol meets the open position; a batch close then sells it at the new nonce.
        Assert.Equal("position_already_open", result["code"]!.GetValue<string>());
        var close = await http.PostAsync("/agent/batch-close", new { agentId, batchId = first["batchId"]!.GetValue<string>() }).OkAsync();
        Assert.Equal(1, close["successful"]!.GetValue<int>());
        var hash = close["results"]![0]!["result"]!["txHash"]!.GetValue<string>();
        await chain.AssertSucceededAsync(hash);
        var transaction = await chain.Chain.Web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(hash);
        Assert.Equal(pending + 3, transaction.Nonce.Value);
        Assert.Equal(0m, await chain.TokenBalanceAsync(Sol, account));
    }

    [Fact]
    public async Task Registering_a_vault_or_a_token_requires_a_contract_with_the_stated_decimals()
    {
        await using var gateway = await VenueGateway.StartAsync("Evm", chain);
        var http = gateway.Http;
        var nobody = TestData.NewAddress();
        await http.PostAsync("/api/v1/vaults", new { vaultId = "v-" + Guid.NewGuid().ToString("N")[..8], address = nobody }).ProblemAsync(400, "not_a_contract");
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        await http.PostAsync("/api/v1/vaults", new { vaultId, address = chain.Vault, adminSignature = chain.VaultClaim(VenueGateway.Organization, vaultId) }).OkAsync();
        await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = nobody, decimals = 18 }).ProblemAsync(400, "not_a_contract");
        var wrong = await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = chain.Token("NVDA"), decimals = 6 }).ProblemAsync(400, "invalid_decimals");
        Assert.Equal("18", wrong["decimals"]!.GetValue<string>());
        var listed = await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = chain.Token("NVDA"), decimals = 18 }).OkAsync();
        Assert.Equal(chain.Token("NVDA"), listed["tokens"]![0]!["address"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_vault_on_a_chain_is_created_only_with_its_contracts_admin_signing_the_organisations_claim()
    {
        await using var gateway = await VenueGateway.StartAsync("Evm", chain);
        var http = gateway.Http;
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        object Create(string? adminSignature, string? address = null) => new { vaultId, address = address ?? chain.Vault, capitalUsdc = "1000", adminSignature };

        // The vault's address is public: knowing it is not enough.
        var missing = await http.PostAsync("/api/v1/vaults", Create(null)).ProblemAsync(400, "invalid_signature");
        Assert.Equal(VenueGateway.Organization, missing["organization"]!.GetValue<string>()); // what to sign, said back
        Assert.Equal(vaultId, missing["vaultId"]!.GetValue<string>());
        await http.PostAsync("/api/v1/vaults", Create("0x1234")).ProblemAsync(400, "invalid_signature");
        // Signed by someone who is not the contract's admin, or by the admin for another organisation (shown to this one).
        var (strangerKey, stranger) = TestData.NewKey();
        var notAdmin = await http.PostAsync("/api/v1/vaults", Create(new VaultClaim(VenueGateway.Organization, vaultId, chain.Vault, Anvil.ChainId).Sign(strangerKey)))
            .ProblemAsync(403, "not_vault_admin");
        Assert.True(EthAddress.AreEqual(stranger, notAdmin["signer"]!.GetValue<string>()));
        await http.PostAsync("/api/v1/vaults", Create(chain.VaultClaim("another-org", vaultId))).ProblemAsync(403, "not_vault_admin");
        // A contract with no admin role to hold (a token: Ownable, not AccessControl) is refused the same way, not as an outage.
        var token = chain.Token("NVDA");
        await http.PostAsync("/api/v1/vaults", Create(new VaultClaim(VenueGateway.Organization, vaultId, token, Anvil.ChainId).Sign(chain.AdminKey), token))
            .ProblemAsync(403, "not_vault_admin");
        // Nothing above created the vault or claimed its address.
        await http.GetJsonAsync($"/api/v1/vaults/{vaultId}").ProblemAsync(404, "vault_not_found");

        // The admin signs with the silo's command (docs/venues.md), from its key file and the deployments file.
        var signed = await ChildProcess.RunAsync("dotnet",
        [
            TestEnvironment.BuiltProgram("AgentDesk.Silo"), "sign-vault-claim", "--AgentDesk:VaultClaim:Organization", VenueGateway.Organization,
            "--AgentDesk:VaultClaim:VaultId", vaultId, "--AgentDesk:VaultClaim:Address", chain.Vault, "--AgentDesk:VaultClaim:KeyFile", chain.AdminKeyFile,
            "--AgentDesk:Evm:DeploymentsFile", chain.DeploymentsFile,
        ], TimeSpan.FromSeconds(60));
        Assert.True(signed.ExitCode == 0, signed.Error);
        var created = await http.PostAsync("/api/v1/vaults", Create(signed.Output.Trim())).OkAsync();
        Assert.Equal(chain.Vault.ToLowerInvariant(), created["address"]!.GetValue<string>());
        // The same create again is a retry and answers the vault.
        await http.PostAsync("/api/v1/vaults", Create(chain.VaultClaim(VenueGateway.Organization, vaultId))).OkAsync();
    }

    [Fact]
    public async Task A_stop_the_chain_refused_waits_for_its_retry_and_the_ticks_meanwhile_send_nothing()
    {
        // The retry waits 60 s after a first refusal (the default period).
        await using var gateway = await VenueGateway.StartAsync("Evm", chain);
        var (agentId, account) = await StopRefusedForAWithdrawnAllowanceAsync(gateway, failedOrders: 1);

        // Allowed again, so a sale sent now would go through: the ticks under the stop within the wait send none.
        await chain.ApproveTokenAsync(account, Sol, ChainFixture.UnlimitedAllowance);
        foreach (var price in new[] { 43m, 42m, 41m }) await gateway.SetPriceAsync(Sol, price);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await chain.FailedOrdersAsync(account));
        Assert.Single((await gateway.Http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray());
        Assert.True(await chain.TokenBalanceAsync(Sol, account) > 0m);
    }

    [Fact]
    public async Task A_stop_the_chain_refused_sells_by_the_exit_retry_once_the_subscriber_can_sell_again_with_no_new_tick()
    {
        // The exit retry comes 2 s after the first refusal here, then twice as long after each (AgentDesk:Retries:ReminderSeconds; 60 by default).
        await using var gateway = await VenueGateway.StartAsync("Evm", chain, "--AgentDesk:Retries:ReminderSeconds", "2");
        // The stop fires on the one tick under it and its sale is refused; a retry meanwhile is refused too.
        var (agentId, account) = await StopRefusedForAWithdrawnAllowanceAsync(gateway, failedOrders: 2);

        // Allowed again, and the price never moves: the retry sells the whole position, once.
        await chain.ApproveTokenAsync(account, Sol, ChainFixture.UnlimitedAllowance);
        await Eventually.WaitForAsync(async () => (await gateway.Http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray().Count,
            c => c == 0, TimeSpan.FromSeconds(30), "the retry to sell with no new tick");
        Assert.Equal(0m, await chain.TokenBalanceAsync(Sol, account));
        Assert.True(await chain.UsdcBalanceAsync(account) > 90m);
        var trades = await Eventually.WaitForAsync(() => gateway.Http.GetJsonAsync($"/api/v1/historical-swaps?agentId={agentId}").OkAsync(),
            l => l["trades"]!.AsArray().Count > 0, TimeSpan.FromSeconds(30), "the trade in history");
        Assert.Equal("stop_loss", Assert.Single(trades["trades"]!.AsArray())!["closeReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_stale_chain_feed_refuses_trading_until_it_updates()
    {
        // New trades need a price at most 3 s old; the feed is read from the chain and stamped with its updatedAt.
        await using var gateway = await VenueGateway.StartAsync("Evm", chain, "--AgentDesk:Prices:MaxAgeSeconds", "3");
        var http = gateway.Http;
        var agentId = Guid.NewGuid();
        await http.PostAsync("/agent/register", new { agentId, agentType = "SWAP" }).OkAsync();
        await SubscribeAsync(http, agentId, await chain.SubscriberAsync(agentId, 100m, Sol), 100m);
        await gateway.SetPriceAsync(Sol, 40m);
        // An agent without subscribers probes the price check: its batches trade nothing.
        var probe = Guid.NewGuid();
        await http.PostAsync("/agent/register", new { agentId = probe, agentType = "SWAP" }).OkAsync();
        await Eventually.WaitForAsync(() => http.PostAsync("/agent/batch-open", new { agentId = probe, symbol = Sol, action = "LONG", weight = 10, leverage = 1 }),
            r => r.Status != 200, TimeSpan.FromSeconds(20), "the feed to go stale");

        var request = new { agentId, symbol = Sol, action = "LONG", weight = 10, leverage = 1 };
        var stale = await http.PostAsync("/agent/batch-open", request).ProblemAsync(409, "stale_price");
        Assert.Equal("3", stale["maxAgeSeconds"]!.GetValue<string>());
        await gateway.SetPriceAsync(Sol, 41m); // a new round: fresh again
        var opened = await http.PostAsync("/agent/batch-open", request).OkAsync();
        Assert.Equal(1, opened["successful"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_EVM_venue_does_not_start_without_a_readable_executor_key_and_never_shows_the_key()
    {
        var missing = Path.Combine(Path.GetTempPath(), "no-such-key-" + Guid.NewGuid().ToString("N"));
        var refused = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            VenueGateway.StartAsync("Evm", chain, "--AgentDesk:Evm:ExecutorKeyFile", missing));
        Assert.Contains("AgentDesk:Evm:ExecutorKeyFile", refused.Message, StringComparison.Ordinal);
        Assert.Contains(missing, refused.Message, StringComparison.Ordinal);

        // A file that is not a key is refused without echoing what it holds.
        var notAKey = Path.Combine(Path.GetTempPath(), "not-a-key-" + Guid.NewGuid().ToString("N"));
        var secret = "0x" + new string('7', 63);
        await File.WriteAllTextAsync(notAKey, secret);
        try
        {
            var wrong = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() =>
                VenueGateway.StartAsync("Evm", chain, "--AgentDesk:Evm:ExecutorKeyFile", notAKey));
            Assert.Contains("does not hold a private key", wrong.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[2..], wrong.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notAKey);
        }
    }

    [Fact]
    public async Task After_a_signer_rotation_signed_off_chain_the_chain_learns_the_new_signer_and_skips_the_rotations_nonce()
    {
        await using var gateway = await VenueGateway.StartAsync("Evm", chain);
        var http = gateway.Http;
        var (oldKey, oldSigner) = TestData.NewKey();
        var (newKey, newSigner) = TestData.NewKey();
        var agentId = Guid.NewGuid();
        var vaultId = "vault-" + Guid.NewGuid().ToString("N")[..8];
        await http.PostAsync("/agent/register", new { agentId, agentType = "SWAP", signerAddress = oldSigner }).OkAsync();
        await http.PostAsync("/api/v1/vaults", new { vaultId, address = chain.Vault, capitalUsdc = "100000", adminSignature = chain.VaultClaim(VenueGateway.Organization, vaultId) })
            .OkAsync();
        await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = chain.Token("NVDA"), decimals = 18 }).OkAsync();
        await http.PutAsync($"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "10000" }).OkAsync();
        await gateway.SetPriceAsync("NVDA", 100m);
        var vaultBefore = await chain.TokenBalanceAsync("NVDA", chain.Vault);
        var exits = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 });
        var deadline = DateTimeOffset.UtcNow.AddMinutes(10).ToUnixTimeSeconds();
        var (open, _) = await StoryTests.SignedAsync(http, agentId, oldKey, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = "NVDA", ["usdcAmount"] = "100", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["exits"] = exits, ["deadline"] = deadline,
        });
        await http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
        Assert.Equal(1, (int)await chain.NonceOfAgentAsync(agentId));

        // The current signer hands the agent to a new key, off-chain: that spends nonce 1, which the chain never sees.
        var quote = await http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol=NVDA").OkAsync();
        var rotation = new JsonObject
        {
            ["domain"] = quote["typedData"]!["domain"]!.DeepClone(),
            ["primaryType"] = "RotateSigner",
            ["types"] = new JsonObject
            {
                ["RotateSigner"] = new JsonArray(
                    new JsonObject { ["name"] = "agentId", ["type"] = "uint256" }, new JsonObject { ["name"] = "newSigner", ["type"] = "address" },
                    new JsonObject { ["name"] = "deadline", ["type"] = "uint256" }, new JsonObject { ["name"] = "nonce", ["type"] = "uint256" }),
            },
            ["message"] = new JsonObject
            {
                ["agentId"] = Domain.Intents.AgentIds.ToUint256(agentId).ToString(System.Globalization.CultureInfo.InvariantCulture), ["newSigner"] = newSigner,
                ["deadline"] = deadline.ToString(System.Globalization.CultureInfo.InvariantCulture), ["nonce"] = "1",
            },
        };
        using var anonymous = gateway.Anonymous();
        await anonymous.PutAsync($"/api/v1/agents/{agentId}/signer", new
        {
            signerAddress = newSigner, deadline = deadline.ToString(System.Globalization.CultureInfo.InvariantCulture), nonce = "1",
            signature = await Ethers.SignAsync(rotation, oldKey),
        }).OkAsync();

        // The new key's next intent (nonce 2) executes on-chain: the venue registered the signer and moved the nonce first.
        var (add, addQuote) = await StoryTests.SignedAsync(http, agentId, newKey, "add-intents", new JsonObject
        {
            ["symbol"] = "NVDA", ["usdcAmount"] = "50", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = deadline,
        });
        Assert.Equal(2, addQuote["nonce"]!.GetValue<long>());
        var added = await anonymous.PostAsync($"/agents/{agentId}/add-intents", add).OkAsync();
        await chain.AssertSucceededAsync(added["transactionHash"]!.GetValue<string>());
        Assert.Equal(3, (int)await chain.NonceOfAgentAsync(agentId));
        Assert.Equal(newSigner, await chain.Chain.QueryValueAsync<Venues.Evm.Abi.SignerOfFunction, string>(chain.Deployment.Router,
            new Venues.Evm.Abi.SignerOfFunction { AgentId = Domain.Intents.AgentIds.ToUint256(agentId) }), StringComparer.OrdinalIgnoreCase);
        Assert.Equal(added["size"]!.GetValue<decimal>(), await chain.TokenBalanceAsync("NVDA", chain.Vault) - vaultBefore);
        Assert.Equal(3, (await http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol=NVDA").OkAsync())["nonce"]!.GetValue<long>());
    }

    /// <summary>
    /// A SWAP agent's subscriber holding SOL under a stop at 45, who withdrew the router's allowance: the stop fires on a tick
    /// at 44, and the chain refuses its sale (and <paramref name="failedOrders"/> − 1 retries), selling nothing.
    /// </summary>
    private async Task<(Guid AgentId, string Account)> StopRefusedForAWithdrawnAllowanceAsync(VenueGateway gateway, int failedOrders)
    {
        var (agentId, account) = await SwapAgentWithOneSubscriberAsync(gateway);
        var opened = await gateway.Http.PostAsync("/agent/batch-open", new { agentId, symbol = Sol, action = "LONG", weight = 50, leverage = 1,
            orderOptions = new { stopLossPrice = 45 } }).OkAsync();
        Assert.Equal(1, opened["successful"]!.GetValue<int>());
        var held = await chain.TokenBalanceAsync(Sol, account);
        await chain.ApproveTokenAsync(account, Sol, 0);
        await gateway.SetPriceAsync(Sol, 44m);
        await Eventually.WaitForAsync(() => chain.FailedOrdersAsync(account), n => n >= failedOrders, TimeSpan.FromSeconds(30), "the refused sales");
        Assert.Equal(held, await chain.TokenBalanceAsync(Sol, account));
        Assert.Single((await gateway.Http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync()).AsArray());
        return (agentId, account);
    }

    /// <summary>A SWAP agent with one subscriber funded on-chain (100 USDC), and SOL at 50.</summary>
    private async Task<(Guid AgentId, string Account)> SwapAgentWithOneSubscriberAsync(VenueGateway gateway)
    {
        var agentId = Guid.NewGuid();
        await gateway.Http.PostAsync("/agent/register", new { agentId, agentType = "SWAP" }).OkAsync();
        var account = await SubscribeAsync(gateway.Http, agentId, await chain.SubscriberAsync(agentId, 100m, Sol), 100m);
        await gateway.SetPriceAsync(Sol, 50m);
        return (agentId, account);
    }

    private static async Task<string> SubscribeAsync(HttpClient http, Guid agentId, string account, decimal deposit)
    {
        await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = deposit.ToString(System.Globalization.CultureInfo.InvariantCulture) }).OkAsync();
        await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
        return account;
    }
}
