using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Hosting;
using AgentDesk.Silo.Configuration;
using AgentDesk.Testing;
using AgentDesk.Venues.Evm;
using AgentDesk.Venues.Evm.Abi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.Signer;

namespace AgentDesk.Benchmarks.Chain;

/// <summary>
/// The EVM venue on a private anvil (automine: a block per transaction), deployed as <c>deploy-contracts</c> deploys it:
/// <list type="bullet">
/// <item><c>chain.intents_per_s</c>: signed add intents end to end (HTTP → agent → position → relayer → router → receipt),
/// 8 agents side by side, each sequential in nonce order.</item>
/// <item><c>chain.raw_transfers_per_s</c>: the same relayer sending plain ETH transfers, 400 at once: what the node and the
/// relayer give when nothing else happens.</item>
/// <item><c>chain.batch_open_1000_one_tx_each</c> and <c>chain.batch_open_1000_multicall</c>: a SWAP agent's batch-open for 1,000
/// subscribers (memory storage), timed from the call until every subscriber's result is in (each one mined), with one
/// transaction per subscriber and with orders coalesced into <c>batchOpen</c> chunks of up to 150.</item>
/// </list>
/// </summary>
public static class ChainBenchmark
{
    private const int Agents = 8;
    private const int IntentsPerAgent = 25;
    private const int RawTransfers = 400;
    private const int Subscribers = 1_000;
    private const string AdminKey = "bench-admin-key-0123456789";

    public static async Task RunAsync()
    {
        var folder = Directory.CreateTempSubdirectory("agentdesk-bench-chain-").FullName;
        await using var anvil = await Anvil.StartAsync("--gas-limit", "100000000");
        using var chain = new EvmChain(anvil.RpcUrl);
        var (adminKey, _) = await FundedAsync(chain);
        var (executorKey, executor) = await FundedAsync(chain);
        var executorKeyFile = Path.Combine(folder, "executor.key");
        await File.WriteAllTextAsync(executorKeyFile, executorKey);
        using var admin = new ExecutorRelayer(chain, adminKey, Anvil.ChainId, new EvmOptions(), NullLogger.Instance);
        var deployment = await EvmDeployer.DeployAsync(admin, new DeploymentPlan(executor, [new("NVDA", 130m), new("SOL", 150m)], ["equities"],
            PoolUsdc: 100_000_000m, VaultUsdc: 10_000_000m), Anvil.ChainId);
        var deploymentsFile = Path.Combine(folder, "deployments.json");
        deployment.Write(deploymentsFile);
        string[] settings =
        [
            "--AgentDesk:Venue:Kind", "Evm", "--AgentDesk:Evm:DeploymentsFile", deploymentsFile, "--AgentDesk:Evm:ExecutorKeyFile", executorKeyFile,
            "--AgentDesk:Prices:Source", "Chain", "--AgentDesk:Prices:ChainPollMs", "50", "--AgentDesk:Prices:MaxJumpBps", "1000000",
        ];

        Report.Figure("chain.intents_per_s", await IntentsAsync(deployment, settings, adminKey), "intents/s");
        Report.Figure("chain.raw_transfers_per_s", await RawTransfersAsync(chain, executorKey), "tx/s");

        var setup = Stopwatch.StartNew();
        var oneEach = await SubscribersAsync(chain, admin, deployment);
        var coalesced = await SubscribersAsync(chain, admin, deployment);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"# set up {2 * Subscribers} subscribers on-chain in {setup.Elapsed.TotalSeconds:0.0} s"));
        Report.Figure("chain.batch_open_1000_one_tx_each", (await BatchOpenAsync(settings, oneEach, chunk: 1)).TotalMilliseconds, "ms");
        Report.Figure("chain.batch_open_1000_multicall", (await BatchOpenAsync(settings, coalesced, chunk: 150)).TotalMilliseconds, "ms");
        Directory.Delete(folder, recursive: true);
    }

    private static async Task<double> IntentsAsync(EvmDeployment deployment, string[] evmSettings, string vaultAdminKey)
    {
        string Port() => FreePort().ToString(CultureInfo.InvariantCulture);
        await using var app = GatewayHost.Build(
        [
            "--urls", "http://127.0.0.1:0", "--AgentDesk:Cluster:Mode", "Memory", "--AgentDesk:Cluster:SiloPort", Port(), "--AgentDesk:Cluster:GatewayPort", Port(),
            "--AgentDesk:Auth:AdminKey", AdminKey, "--AgentDesk:RateLimit:PermitsPerSecond", "1000000", "--AgentDesk:RateLimit:AnonymousPermitsPerSecond", "1000000",
            "--AgentDesk:Telemetry:Console", "false", "--Logging:LogLevel:Default", "Warning", .. evmSettings,
        ]);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()) };
        http.DefaultRequestHeaders.Add("x-api-key", AdminKey);
        // The agents send their signed intents with no credential, as agents do (docs/security.md).
        using var signedIntents = new HttpClient { BaseAddress = http.BaseAddress };
        var domain = new Eip712Domain(Eip712Domain.DefaultName, Eip712Domain.DefaultVersion, Anvil.ChainId, deployment.Router);
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var vault = deployment.Vaults["equities"];
        var token = deployment.Tokens["NVDA"].Address;
        var organization = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Gateway.Access.AuthOptions>>().Value.AdminOrganization;
        var claim = new Domain.Vaults.VaultClaim(organization, "equities", vault, deployment.ChainId).Sign(vaultAdminKey);
        await Send(http, HttpMethod.Post, "/api/v1/vaults", new { vaultId = "equities", address = vault, capitalUsdc = "1000000000", adminSignature = claim });
        await Send(http, HttpMethod.Put, "/api/v1/vaults/equities/tokens/NVDA", new { address = token, decimals = 18 });
        await WaitForPriceAsync(app.Services.GetRequiredService<IClusterClient>(), "NVDA");

        var agents = new List<(Guid AgentId, List<object> Bodies)>();
        for (var a = 0; a < Agents; a++)
        {
            var key = EthECKey.GenerateKey();
            var agentId = Guid.NewGuid();
            await Send(http, HttpMethod.Post, "/agent/register", new { agentId, agentType = "SWAP", signerAddress = key.GetPublicAddress() });
            await Send(http, HttpMethod.Put, $"/api/v1/agents/{agentId}/vault", new { vaultId = "equities", allocationUsdc = "100000" });
            await Send(http, HttpMethod.Put, $"/api/v1/agents/{agentId}/track", new { track = "Prime" });
            var id = AgentIds.ToUint256(agentId);
            ExitRule[] exits = [new(ExitTriggerType.TakeProfit, 1000, 5000), new(ExitTriggerType.StopLoss, -1000, 10_000)];
            var bodies = new List<object>
            {
                new
                {
                    symbol = "NVDA", usdcAmount = "100", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = 0,
                    exits = exits.Select(e => new { triggerType = e.TriggerType.ToString(), e.TriggerBps, e.ExitBps }).ToArray(),
                    signature = NethereumIntentSignatures.Sign(domain, new OpenPositionIntent(id, vault, token, 100_000_000, 0, 100, ExitsHash.Compute(exits), deadline, 0), key.GetPrivateKey()),
                },
            };
            for (var n = 1; n <= IntentsPerAgent; n++)
                bodies.Add(new
                {
                    symbol = "NVDA", usdcAmount = "10", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = n,
                    signature = NethereumIntentSignatures.Sign(domain, new AddToPositionIntent(id, vault, token, 10_000_000, 0, 100, deadline, n), key.GetPrivateKey()),
                });
            agents.Add((agentId, bodies));
        }
        // Opens first (not timed: they also register each agent's signer on the chain), then the adds.
        foreach (var agent in agents) await Send(signedIntents, HttpMethod.Post, $"/agents/{agent.AgentId}/trade-intents", agent.Bodies[0]);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(agents.Select(async agent =>
        {
            foreach (var body in agent.Bodies.Skip(1)) await Send(signedIntents, HttpMethod.Post, $"/agents/{agent.AgentId}/add-intents", body);
        }));
        var rate = Agents * IntentsPerAgent / watch.Elapsed.TotalSeconds;
        await app.StopAsync();
        return rate;
    }

    private static async Task<double> RawTransfersAsync(EvmChain chain, string executorKey)
    {
        using var relayer = new ExecutorRelayer(chain, executorKey, Anvil.ChainId, new EvmOptions(), NullLogger.Instance);
        var to = EthECKey.GenerateKey().GetPublicAddress();
        for (var i = 0; i < 20; i++) await relayer.SendAndWaitAsync(to, [], 21_000); // warm-up
        var watch = Stopwatch.StartNew();
        var receipts = await Task.WhenAll(Enumerable.Range(0, RawTransfers).Select(_ => relayer.SendAndWaitAsync(to, [], 21_000)));
        var rate = RawTransfers / watch.Elapsed.TotalSeconds;
        if (receipts.Any(r => r.Status?.Value != 1)) throw new InvalidOperationException("a transfer failed");
        return rate;
    }

    /// <summary>
    /// 1,000 subscribers' smart accounts: ETH for gas, 100 USDC, the router approved. Sent with mining paused and mined in a
    /// few large blocks (setup, not measured). Consent is given per agent, in <see cref="BatchOpenAsync"/>.
    /// </summary>
    private static async Task<List<(string Key, string Address)>> SubscribersAsync(EvmChain chain, ExecutorRelayer admin, EvmDeployment deployment)
    {
        var subscribers = Enumerable.Range(0, Subscribers).Select(_ => EthECKey.GenerateKey())
            .Select(k => (Key: k.GetPrivateKey(), Address: k.GetPublicAddress().ToLowerInvariant())).ToList();
        await chain.RpcAsync("evm_setAutomine", false);
        try
        {
            foreach (var s in subscribers)
            {
                await chain.RpcAsync("anvil_setBalance", s.Address, new HexBigInteger(BigInteger.Pow(10, 20)).HexValue);
                await admin.SubmitAsync(deployment.Usdc, new MintFunction { To = s.Address, Amount = EvmDeployer.Units(100m, 6) }.GetCallData(), 100_000);
            }
            await BenchCluster.ForEachAsync(subscribers, 32, async s =>
            {
                using var sender = new ExecutorRelayer(chain, s.Key, Anvil.ChainId, new EvmOptions(), NullLogger.Instance);
                await sender.SubmitAsync(deployment.Usdc, new ApproveFunction { Spender = deployment.Router, Value = BigInteger.Pow(2, 255) }.GetCallData(), 100_000);
            });
            await MineAllAsync(chain);
        }
        finally
        {
            await chain.RpcAsync("evm_setAutomine", true);
        }
        return subscribers;
    }

    private static async Task<TimeSpan> BatchOpenAsync(string[] evmSettings, List<(string Key, string Address)> subscribers, int chunk)
    {
        var configuration = ToDictionary([.. evmSettings, "--AgentDesk:Evm:BatchChunkSize", chunk.ToString(CultureInfo.InvariantCulture)]);
        await using var cluster = await BenchCluster.StartAsync(ClusterMode.Memory, settings: configuration);
        var grains = cluster.Grains;
        var deployment = EvmDeployment.Read(configuration["AgentDesk:Evm:DeploymentsFile"]!);
        var agentId = Guid.NewGuid();
        await grains.GetGrain<IAgentGrain>(agentId).RegisterAsync(new AgentRegistration("bench", null, null, AgentType.Swap, true, [], "bench", null, null, null));
        await ConsentAsync(cluster, subscribers, deployment, agentId);
        await BenchCluster.ForEachAsync(subscribers, 256, async s =>
        {
            var account = grains.GetGrain<ISubscriberGrain>(GrainKeys.Account("bench", s.Address));
            await account.CreateAsync();
            await account.DepositAsync("seed", 100m);
        });
        foreach (var s in subscribers) await grains.GetGrain<IAgentGrain>(agentId).SubscribeAsync(s.Address);
        await WaitForPriceAsync(grains, "SOL");

        // Warm the path once (a separate agent and subscriber) so JIT and the relayer's first connection are not measured.
        var warm = Guid.NewGuid();
        await grains.GetGrain<IAgentGrain>(warm).RegisterAsync(new AgentRegistration("warm", null, null, AgentType.Swap, true, [], "bench", null, null, null));
        await grains.GetGrain<IAgentGrain>(warm).SubscribeAsync(subscribers[0].Address);
        await ConsentAsync(cluster, subscribers.Take(1).ToList(), deployment, warm);
        var warmed = await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).OpenAsync(new BatchOpenRequest(warm, "SOL", Side.Long, 10, 1, 0, 0, 0, 0));
        if (warmed.Value?.Successful != 1) throw new InvalidOperationException($"the warm-up batch did not fill: {(warmed.Value?.Results is [var first, ..] ? first.Problem : null)}");

        var watch = Stopwatch.StartNew();
        var result = await grains.GetGrain<IBatchGrain>(Guid.NewGuid()).OpenAsync(new BatchOpenRequest(agentId, "SOL", Side.Long, 50, 1, 0, 0, 0, 0));
        watch.Stop();
        if (!result.IsSuccess || result.Value!.Successful != Subscribers)
            throw new InvalidOperationException($"the batch did not fill every subscriber: {result.Problem?.Message} {result.Value?.Successful}/{result.Value?.Failed} "
                + result.Value?.Results.FirstOrDefault(r => !r.Success)?.Problem);
        var transactions = result.Value.Results.Select(r => r.Transaction!.Hash).Distinct().Count();
        Console.WriteLine($"# chunk {chunk}: {Subscribers} subscribers in {transactions} transactions");
        return watch.Elapsed;
    }

    /// <summary>Each subscriber consents to the agent on-chain (its own transaction), mined in a few blocks.</summary>
    private static async Task ConsentAsync(BenchCluster cluster, List<(string Key, string Address)> subscribers, EvmDeployment deployment, Guid agentId)
    {
        var rpc = cluster.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<EvmOptions>>().Value.RpcUrl!;
        using var chain = new EvmChain(rpc);
        await chain.RpcAsync("evm_setAutomine", false);
        try
        {
            await BenchCluster.ForEachAsync(subscribers, 32, async s =>
            {
                using var sender = new ExecutorRelayer(chain, s.Key, Anvil.ChainId, new EvmOptions(), NullLogger.Instance);
                await sender.SubmitAsync(deployment.Router, new SetConsentFunction { AgentId = AgentIds.ToUint256(agentId), Allowed = true }.GetCallData(), 100_000);
            });
            await MineAllAsync(chain);
        }
        finally
        {
            await chain.RpcAsync("evm_setAutomine", true);
        }
    }

    private static async Task MineAllAsync(EvmChain chain)
    {
        for (var block = 0; block < 1_000; block++)
        {
            var status = await chain.RpcAsync<Dictionary<string, HexBigInteger>>("txpool_status");
            if (status.Values.All(v => v.Value == 0)) return;
            await chain.RpcAsync("evm_mine");
        }
        throw new InvalidOperationException("the mempool did not empty within 1,000 blocks");
    }

    private static async Task WaitForPriceAsync(IGrainFactory grains, string symbol)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync() is null)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no chain price for {symbol}");
            await Task.Delay(20);
        }
    }

    private static async Task<(string Key, string Address)> FundedAsync(EvmChain chain)
    {
        var key = EthECKey.GenerateKey();
        var address = key.GetPublicAddress().ToLowerInvariant();
        await chain.RpcAsync("anvil_setBalance", address, new HexBigInteger(BigInteger.Pow(10, 24)).HexValue);
        return (key.GetPrivateKey(), address);
    }

    private static Dictionary<string, string?> ToDictionary(string[] pairs) =>
        Enumerable.Range(0, pairs.Length / 2).ToDictionary(i => pairs[2 * i].TrimStart('-'), i => (string?)pairs[2 * i + 1]);

    private static async Task Send(HttpClient http, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web)) };
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
