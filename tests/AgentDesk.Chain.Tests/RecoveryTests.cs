using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentDesk.Domain.Intents;
using AgentDesk.Testing;
using AgentDesk.Venues.Evm;
using AgentDesk.Venues.Evm.Abi;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;

namespace AgentDesk.Chain.Tests;

/// <summary>
/// Exactly once across a crash: the single-node product (gateway process with its silo, state in a SQLite file) is killed
/// while its transaction waits in the chain's mempool — after the send, before the outcome is stored. The transaction is
/// mined while nothing runs; the restarted process reconciles from the chain instead of sending again.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed partial class RecoveryTests(ChainFixture chain)
{
    private const string AdminKey = "recovery-admin-key-0123456789";

    [Fact]
    public async Task A_process_killed_between_send_and_store_executes_the_intent_once_and_records_the_position_after_restart()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-recovery-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var agentId = Guid.NewGuid();
        var (key, signer) = TestData.NewKey();
        var vaultId = "vault-" + Guid.NewGuid().ToString("N")[..8];
        // The signer is already on the chain, so the only transaction the intent needs is the intent itself.
        await chain.CallAsync(chain.Admin, chain.Deployment.Router, new SetAgentSignerFunction { AgentId = AgentIds.ToUint256(agentId), Signer = signer });
        var vaultBefore = await chain.TokenBalanceAsync("NVDA", chain.Vault);
        JsonObject open;

        var first = await StartAsync(workDir);
        Task<(int Status, JsonNode? Body)> submitted;
        try
        {
            var http = first.Http;
            await http.PostAsync("/agent/register", new { agentId, agentType = "SWAP", signerAddress = signer }).OkAsync();
            await http.PostAsync("/api/v1/vaults", new { vaultId, address = chain.Vault, capitalUsdc = "100000", adminSignature = chain.VaultClaim(VenueGateway.Organization, vaultId) })
                .OkAsync();
            await http.PutAsync($"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = chain.Token("NVDA"), decimals = 18 }).OkAsync();
            await http.PutAsync($"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "10000" }).OkAsync();
            await chain.SetPriceAsync("NVDA", 120m);
            await Eventually.WaitForAsync(() => http.GetJsonAsync("/prices?symbols=NVDA"),
                r => r.Body?["prices"]?.AsArray() is [{ } q] && q["priceUsd"]!.GetValue<decimal>() == 120m, what: "the chain price");
            (open, _) = await StoryTests.SignedAsync(http, agentId, key, "trade-intents/quote", new JsonObject
            {
                ["symbol"] = "NVDA", ["usdcAmount"] = "120", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100,
                ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 }),
                ["deadline"] = DateTimeOffset.UtcNow.AddMinutes(30).ToUnixTimeSeconds(),
            });

            // Mining stops: the intent's transaction will wait in the mempool, and the process with it.
            await chain.Chain.RpcAsync("evm_setAutomine", false);
            submitted = http.PostAsync($"/agents/{agentId}/trade-intents", open);
            await Eventually.WaitForAsync(() => chain.Chain.RpcAsync<TxPoolStatus>("txpool_status"), s => s.PendingCount == 1 || submitted.IsCompleted,
                TimeSpan.FromSeconds(30), "the intent's transaction in the mempool");
            if (submitted.IsCompleted)
            {
                var (status, body) = await submitted;
                Assert.Fail($"the intent was answered ({status} {body?.ToJsonString()}) before it reached the chain:\n{first.Process.Output}");
            }
            first.Process.Kill();
        }
        finally
        {
            await chain.Chain.RpcAsync("evm_setAutomine", true); // mines what waits, as a chain would while the process is down
            await first.DisposeAsync();
        }
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => submitted);
        // The executor key is read from its file and never printed.
        var executorKey = ExecutorKey.Read(chain.ExecutorKeyFile);
        Assert.DoesNotContain(executorKey[2..], first.Process.Output, StringComparison.OrdinalIgnoreCase);

        // The chain executed the intent once, while the process was down.
        Assert.Equal(1, (int)await chain.NonceOfAgentAsync(agentId));
        var bought = await chain.TokenBalanceAsync("NVDA", chain.Vault) - vaultBefore;
        Assert.True(bought > 0);
        var fills = await FillsAsync(agentId, 0);
        Assert.Single(fills);

        var second = await StartAsync(workDir);
        try
        {
            // Recovery records the position from the chain without any client retry: the position's reminder, or the agent
            // carrying its stored intent out when the read activates it, whichever comes first.
            var positions = await Eventually.WaitForAsync(async () => (await second.Http.GetJsonAsync($"/agents/{agentId}/positions").OkAsync()).AsArray(),
                p => p.Count == 1, TimeSpan.FromSeconds(30), "the recovered position");
            Assert.Equal(bought, positions[0]!["size"]!.GetValue<decimal>());
            // The client's retry of the same signed intent answers the chain's transaction; nothing is sent again.
            var retried = await second.Http.PostAsync($"/agents/{agentId}/trade-intents", open).OkAsync();
            Assert.Equal(fills[0].Log.TransactionHash, retried["transactionHash"]!.GetValue<string>());
            Assert.Equal(bought, retried["size"]!.GetValue<decimal>());
            Assert.Equal(1, (int)await chain.NonceOfAgentAsync(agentId));
            Assert.Single(await FillsAsync(agentId, 0));
            Assert.Equal(bought, await chain.TokenBalanceAsync("NVDA", chain.Vault) - vaultBefore);
            var next = await second.Http.GetJsonAsync($"/agents/{agentId}/trade-intents/quote?symbol=NVDA").OkAsync();
            Assert.Equal(1, next["nonce"]!.GetValue<long>());
        }
        finally
        {
            await second.DisposeAsync();
            Directory.Delete(workDir, recursive: true);
        }
    }

    private async Task<List<EventLog<OrderFilledEvent>>> FillsAsync(Guid agentId, long nonce)
    {
        var logs = await chain.Chain.LogsAsync(new NewFilterInput
        {
            Address = [chain.Deployment.Router],
            FromBlock = new BlockParameter(0),
            ToBlock = BlockParameter.CreateLatest(),
            Topics = ["0x" + Event<OrderFilledEvent>.GetEventABI().Sha3Signature.Replace("0x", "", StringComparison.Ordinal), OrderIds.ForIntent(AgentIds.ToUint256(agentId), nonce).ToHex(true)],
        });
        return Event<OrderFilledEvent>.DecodeAllEvents(logs);
    }

    /// <summary>The gateway program with its co-hosted silo, single node on SQLite in <paramref name="workDir"/>, on the chain.</summary>
    private async Task<RunningGateway> StartAsync(string workDir)
    {
        var settings = new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["AgentDesk__Auth__AdminKey"] = AdminKey,
            ["AgentDesk__Cluster__SiloPort"] = Ports.Next().ToString(CultureInfo.InvariantCulture),
            ["AgentDesk__Cluster__GatewayPort"] = Ports.Next().ToString(CultureInfo.InvariantCulture),
            ["AgentDesk__Venue__Kind"] = "Evm",
            ["AgentDesk__Evm__DeploymentsFile"] = chain.DeploymentsFile,
            ["AgentDesk__Evm__ExecutorKeyFile"] = chain.ExecutorKeyFile,
            ["AgentDesk__Prices__Source"] = "Chain",
            ["AgentDesk__Prices__ChainPollMs"] = "50",
            // A pending order is replayed by a reminder: every 2 s here, a minute by default.
            ["AgentDesk__Retries__ReminderSeconds"] = "2",
            ["AgentDesk__Telemetry__Console"] = "false",
        };
        var process = ServerProcess.Start("dotnet", [TestEnvironment.BuiltProgram("AgentDesk.Gateway")], settings, workDir);
        try
        {
            await process.WaitForOutputAsync("API reference:", TimeSpan.FromSeconds(90));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        var http = new HttpClient { BaseAddress = new Uri(ApiLine().Match(process.Output).Groups[1].Value), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("x-api-key", AdminKey);
        return new RunningGateway(process, http);
    }

    private sealed record RunningGateway(ServerProcess Process, HttpClient Http) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await Process.DisposeAsync();
        }
    }

    /// <summary>anvil's <c>txpool_status</c>: pending and queued counts as hex quantities.</summary>
    public sealed class TxPoolStatus
    {
        public HexBigInteger? Pending { get; set; }
        public HexBigInteger? Queued { get; set; }
        public BigInteger PendingCount => Pending?.Value ?? BigInteger.Zero;
        public override string ToString() => $"pending {PendingCount}";
    }

    [GeneratedRegex(@"API:\s+(http://\S+)")]
    private static partial Regex ApiLine();
}
