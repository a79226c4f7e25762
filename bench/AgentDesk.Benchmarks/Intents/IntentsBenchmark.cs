using System.Diagnostics;
using System.Net.Http.Json;
using System.Numerics;
using System.Text.Json;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Tracks;
using AgentDesk.Gateway.Hosting;
using AgentDesk.Grains.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Nethereum.Signer;

namespace AgentDesk.Benchmarks.Intents;

/// <summary>
/// Signed intents per second through HTTP → agent grain → position grain → paper venue, beside the same
/// checks (signature, deadline, nonce, track limits) run in-process in a plain loop.
/// </summary>
public static class IntentsBenchmark
{
    private const int Agents = 16;
    private const int IntentsPerAgent = 150;
    private const string AdminKey = "bench-admin-key-0123456789";

    public static async Task RunAsync()
    {
        var domain = new IntentDomainOptions().ToDomain();
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();

        await using var app = await StartGatewayAsync();
        var baseAddress = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(baseAddress) };
        http.DefaultRequestHeaders.Add("x-api-key", AdminKey);

        // Each agent: a vault with one token, an open position (nonce 0), then pre-signed add intents (nonces 1..n).
        var agents = new List<(string AgentId, List<object> Bodies, EthECKey Key, string Vault, string Token)>();
        for (var a = 0; a < Agents; a++)
        {
            var key = EthECKey.GenerateKey();
            var agentId = Guid.NewGuid();
            var vaultId = $"bench-{a}";
            var vaultAddress = $"0x{a + 1:x40}";
            var token = $"0x{a + 1000:x40}";
            await Post(http, "/agent/register", new { agentId, agentType = "SWAP", signerAddress = key.GetPublicAddress() });
            await Post(http, "/api/v1/vaults", new { vaultId, address = vaultAddress, name = "bench", capitalUsdc = "1000000000" });
            await Put(http, $"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = token, decimals = 18 });
            await Put(http, $"/api/v1/agents/{agentId}/vault", new { vaultId, allocationUsdc = "1000000000" });
            await Put(http, $"/api/v1/agents/{agentId}/track", new { track = "Prime" });
            var exits = ExitsHash.Compute([new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)]);
            var id = AgentIds.ToUint256(agentId);
            var bodies = new List<object>
            {
                new
                {
                    symbol = "NVDA", usdcAmount = "100", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = 0,
                    exits = new[] { new { triggerType = "TakeProfit", triggerBps = 1000, exitBps = 5000 }, new { triggerType = "StopLoss", triggerBps = -1000, exitBps = 10000 } },
                    signature = NethereumIntentSignatures.Sign(domain, new OpenPositionIntent(id, vaultAddress, token, 100_000_000, 0, 100, exits, deadline, 0), key.GetPrivateKey()),
                },
            };
            for (var n = 1; n <= IntentsPerAgent; n++)
                bodies.Add(new
                {
                    symbol = "NVDA", usdcAmount = "10", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = n,
                    signature = NethereumIntentSignatures.Sign(domain, new AddToPositionIntent(id, vaultAddress, token, 10_000_000, 0, 100, deadline, n), key.GetPrivateKey()),
                });
            agents.Add((agentId.ToString(), bodies, key, vaultAddress, token));
        }
        await Post(http, "/api/v1/prices", new { prices = new[] { new { symbol = "NVDA", priceUsd = "130" } } });

        // Opens first (not timed), then every agent's adds in nonce order, agents side by side.
        foreach (var agent in agents) await Post(http, $"/agents/{agent.AgentId}/trade-intents", agent.Bodies[0]);
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(agents.Select(async agent =>
        {
            foreach (var body in agent.Bodies.Skip(1)) await Post(http, $"/agents/{agent.AgentId}/add-intents", body);
        }));
        var httpRate = Agents * IntentsPerAgent / watch.Elapsed.TotalSeconds;

        // The same work without HTTP: straight to the agent grains, to show where the time goes.
        var cluster = app.Services.GetRequiredService<IClusterClient>();
        var direct = agents.Select(agent =>
        {
            var vault = agent.Vault;
            var id = AgentIds.ToUint256(Guid.Parse(agent.AgentId));
            return (Grain: cluster.GetGrain<AgentDesk.Contracts.Agents.IAgentGrain>(Guid.Parse(agent.AgentId)), Submissions: Enumerable.Range(IntentsPerAgent + 1, IntentsPerAgent)
                .Select(n => new IntentRequest(IntentKind.AddToPosition, "NVDA", 10m, 0m, 0m, 0m, 100, [], deadline, n,
                    NethereumIntentSignatures.Sign(domain, new AddToPositionIntent(id, vault, agent.Token, 10_000_000, 0, 100, deadline, n), agent.Key.GetPrivateKey())))
                .ToList());
        }).ToList();
        var grainWatch = Stopwatch.StartNew();
        await Task.WhenAll(direct.Select(async d =>
        {
            foreach (var submission in d.Submissions)
                if (!(await d.Grain.ExecuteIntentAsync(submission)).IsSuccess) throw new InvalidOperationException("a direct intent failed");
        }));
        Report.Figure("intents.grains_without_http", Agents * IntentsPerAgent / grainWatch.Elapsed.TotalSeconds, "intents/s");

        await FixedLoadAsync(http, agents.Select(a => (a.AgentId, a.Key, a.Vault, a.Token)).ToList(), domain, deadline, firstNonce: 2 * IntentsPerAgent + 1);

        var inProcessRate = InProcessChecks(domain, deadline);
        Report.Figure("intents.http_to_paper_venue", httpRate, "intents/s");
        Report.Figure("intents.in_process_checks", inProcessRate, "intents/s");
        Report.Figure("intents.http_vs_in_process", httpRate / inProcessRate, "x");
    }

    private const int OfferedPerSecond = 1_000;
    private const int LoadSeconds = 3;

    /// <summary>
    /// Latency at a fixed offered load: 1,000 signed add intents a second over HTTP for 3 s, spread evenly over the agents
    /// (each agent's in nonce order, as a real agent sends them). A latency counts from when the intent was due to be
    /// sent, not from when it went out, so a slow answer that delays the agent's next intent is charged to that one too.
    /// </summary>
    private static async Task FixedLoadAsync(HttpClient http, List<(string AgentId, EthECKey Key, string Vault, string Token)> agents, Eip712Domain domain,
        long deadline, int firstNonce)
    {
        var perAgent = OfferedPerSecond * LoadSeconds / agents.Count;
        var bodies = agents.Select(agent =>
        {
            var id = AgentIds.ToUint256(Guid.Parse(agent.AgentId));
            return Enumerable.Range(firstNonce, perAgent).Select(n => (object)new
            {
                symbol = "NVDA", usdcAmount = "10", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = n,
                signature = NethereumIntentSignatures.Sign(domain, new AddToPositionIntent(id, agent.Vault, agent.Token, 10_000_000, 0, 100, deadline, n), agent.Key.GetPrivateKey()),
            }).ToList();
        }).ToList();
        var interval = TimeSpan.FromSeconds((double)agents.Count / OfferedPerSecond);
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(agents.Select(async (agent, a) =>
        {
            for (var i = 0; i < perAgent; i++)
            {
                var due = interval * i + interval * a / agents.Count;
                if (due - clock.Elapsed is { Ticks: > 0 } wait) await Task.Delay(wait);
                await Post(http, $"/agents/{agent.AgentId}/add-intents", bodies[a][i]);
                latencies.Add((clock.Elapsed - due).TotalMilliseconds);
            }
        }));
        var sorted = latencies.Order().ToList();
        double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
        Report.Figure("intents.achieved_per_s_at_1000_offered", sorted.Count / clock.Elapsed.TotalSeconds, "intents/s");
        Report.Figure("intents.http_p50_at_1000_per_s", Percentile(0.50), "ms");
        Report.Figure("intents.http_p99_at_1000_per_s", Percentile(0.99), "ms");
    }

    /// <summary>The same checks the agent grain makes, in a plain loop: signature, deadline, nonce, track and allocation.</summary>
    private static double InProcessChecks(Eip712Domain domain, long deadline)
    {
        var key = EthECKey.GenerateKey();
        var signer = key.GetPublicAddress();
        var verifier = new FastIntentVerifier(domain);
        var intents = Enumerable.Range(0, 500).Select(n => new AddToPositionIntent(1, $"0x{1:x40}", $"0x{2:x40}", 10_000_000, 0, 100, deadline, n)).ToArray();
        var signatures = intents.Select(i => NethereumIntentSignatures.Sign(domain, i, key.GetPrivateKey())).ToArray();
        var now = DateTimeOffset.UtcNow;
        var counters = DailyCounters.Start(now);
        var best = 0.0;
        for (var round = 0; round < 3; round++)
        {
            BigInteger nonce = 0;
            var watch = Stopwatch.StartNew();
            for (var i = 0; i < intents.Length; i++)
            {
                if (!verifier.IsSignedBy(intents[i], signatures[i], signer)
                    || IntentRules.CheckDeadline(intents[i].Deadline, now) is not null
                    || IntentRules.CheckNonce(nonce, intents[i].Nonce) is not null
                    || TrackLimits.CheckTrade(Domain.Tracks.Tracks.Prime, 1_000_000_000m, 0m, counters, 10m) is not null)
                    throw new InvalidOperationException("an in-process check failed");
                nonce++;
            }
            best = Math.Max(best, intents.Length / watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    private static async Task<WebApplication> StartGatewayAsync()
    {
        string Port() => FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var app = GatewayHost.Build(
        [
            "--urls", "http://127.0.0.1:0", "--AgentDesk:Cluster:Mode", "Memory", "--AgentDesk:Cluster:SiloPort", Port(),
            "--AgentDesk:Cluster:GatewayPort", Port(), "--AgentDesk:Auth:AdminKey", AdminKey,
            "--AgentDesk:RateLimit:PermitsPerSecond", "1000000", "--AgentDesk:RateLimit:AnonymousPermitsPerSecond", "1000000", "--Logging:LogLevel:Default", "Warning",
        ]);
        await app.StartAsync();
        return app;
    }

    private static async Task Post(HttpClient http, string path, object body)
    {
        using var response = await http.PostAsJsonAsync(path, body, JsonOptions);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task Put(HttpClient http, string path, object body)
    {
        using var response = await http.PutAsJsonAsync(path, body, JsonOptions);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
