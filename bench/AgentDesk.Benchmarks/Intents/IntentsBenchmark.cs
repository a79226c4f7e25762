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
/// checks (signature, deadline, nonce, track limits) run in-process in a plain loop. Each figure is the median of
/// five repetitions after two untimed ones; a repetition measures HTTP, the grains without HTTP and the checks alone one
/// after another, so the ratio compares figures taken side by side, and then the same requests refused before any grain
/// call, which say what the HTTP path costs on its own.
/// </summary>
public static class IntentsBenchmark
{
    private const int Agents = 16;
    private const int IntentsPerAgent = 150;
    private const int Repetitions = 5;
    private const int WarmUpRounds = 2;
    private const string AdminKey = "bench-admin-key-0123456789";

    private sealed record BenchAgent(Guid AgentId, EthECKey Key, string Vault, string Token)
    {
        /// <summary>The next nonce this agent signs: each agent's intents go out in nonce order, as a real agent's do.</summary>
        public int NextNonce { get; set; }
    }

    public static async Task RunAsync()
    {
        var domain = new IntentDomainOptions().ToDomain();
        var digests = new FastIntentVerifier(domain);
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();

        await using var app = await StartGatewayAsync();
        var baseAddress = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // The operator sets the benchmark up and quotes prices with the admin key. The agents send their signed intents with
        // no credential, as agents do: the intent routes are public and the signature authenticates (docs/security.md).
        using var operatorHttp = new HttpClient { BaseAddress = new Uri(baseAddress) };
        operatorHttp.DefaultRequestHeaders.Add("x-api-key", AdminKey);
        using var signedIntents = new HttpClient { BaseAddress = new Uri(baseAddress) };

        // Each agent: a vault with one token and an open position (nonce 0); every later intent adds to it.
        var agents = new List<BenchAgent>();
        for (var a = 0; a < Agents; a++)
        {
            var agent = new BenchAgent(Guid.NewGuid(), EthECKey.GenerateKey(), $"0x{a + 1:x40}", $"0x{a + 1000:x40}");
            var vaultId = $"bench-{a}";
            await Post(operatorHttp, "/agent/register", new { agentId = agent.AgentId, agentType = "SWAP", signerAddress = agent.Key.GetPublicAddress() });
            await Post(operatorHttp, "/api/v1/vaults", new { vaultId, address = agent.Vault, name = "bench", capitalUsdc = "1000000000" });
            await Put(operatorHttp, $"/api/v1/vaults/{vaultId}/tokens/NVDA", new { address = agent.Token, decimals = 18 });
            await Put(operatorHttp, $"/api/v1/agents/{agent.AgentId}/vault", new { vaultId, allocationUsdc = "1000000000" });
            await Put(operatorHttp, $"/api/v1/agents/{agent.AgentId}/track", new { track = "Prime" });
            agents.Add(agent);
        }
        await QuotePriceAsync(operatorHttp);
        foreach (var agent in agents)
        {
            var exits = ExitsHash.Compute([new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)]);
            var intent = new OpenPositionIntent(AgentIds.ToUint256(agent.AgentId), agent.Vault, agent.Token, 100_000_000, 0, 100, exits, deadline, agent.NextNonce++);
            await Post(signedIntents, $"/agents/{agent.AgentId}/trade-intents", new
            {
                symbol = "NVDA", usdcAmount = "100", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = (long)intent.Nonce,
                exits = new[] { new { triggerType = "TakeProfit", triggerBps = 1000, exitBps = 5000 }, new { triggerType = "StopLoss", triggerBps = -1000, exitBps = 10000 } },
                signature = Sign(digests, intent, agent.Key),
            });
        }

        var cluster = app.Services.GetRequiredService<IClusterClient>();
        var figures = new Report.RepeatedFigures();
        const int Intents = Agents * IntentsPerAgent;
        // Two untimed rounds first, so the figures measure compiled code: .NET compiles a method fully only after it has
        // run a while (tiered compilation), and the first round ran at under half the speed of the third.
        for (var repetition = -WarmUpRounds; repetition < Repetitions; repetition++)
        {
            await QuotePriceAsync(operatorHttp);
            // Every agent's adds, signed and encoded beforehand, untimed.
            var bodies = agents.Select(agent => Enumerable.Range(0, IntentsPerAgent).Select(_ => AddBody(digests, agent, deadline)).ToList()).ToList();

            // HTTP: every agent's adds in nonce order, agents side by side.
            var start = ProcessCost.Now();
            var watch = Stopwatch.StartNew();
            await Task.WhenAll(agents.Select(async (agent, a) =>
            {
                foreach (var body in bodies[a]) await PostEncoded(signedIntents, $"/agents/{agent.AgentId}/add-intents", body);
            }));
            var httpTime = watch.Elapsed;
            var httpCost = ProcessCost.Now().Since(start);

            // As many intents again without HTTP, straight to the agent grains, to show where the time goes.
            var direct = agents.Select(agent => (Grain: cluster.GetGrain<AgentDesk.Contracts.Agents.IAgentGrain>(agent.AgentId),
                Submissions: Enumerable.Range(0, IntentsPerAgent).Select(_ => AddRequest(digests, agent, deadline)).ToList())).ToList();
            start = ProcessCost.Now();
            watch.Restart();
            await Task.WhenAll(direct.Select(async d =>
            {
                foreach (var submission in d.Submissions)
                    if (!(await d.Grain.ExecuteIntentAsync(submission)).IsSuccess) throw new InvalidOperationException("a direct intent failed");
            }));
            var grainTime = watch.Elapsed;
            var grainCost = ProcessCost.Now().Since(start);

            var checkRate = InProcessChecks(domain, deadline);

            // The same bodies once more, to a route whose agent id is no UUID: the gateway refuses each (400 invalid_agent_id)
            // after its whole HTTP path (Kestrel, routing, authentication finding no credential, the rate limit, reading and
            // binding the body, a problem answer), with the client's side, and before any grain call. Beside the grains' CPU per intent it says
            // what HTTP adds. It comes after the checks alone, which keep their place in the repetition, and a second after
            // them, so that the events the grains' phase still sends to the log after its last answer do not fall in it.
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (repetition == -WarmUpRounds) await ExpectRefusedAsync(signedIntents, bodies[0][0]);
            start = ProcessCost.Now();
            watch.Restart();
            await Task.WhenAll(bodies.Select(async agentBodies =>
            {
                foreach (var body in agentBodies) await PostRefusedAsync(signedIntents, body);
            }));
            var refusedTime = watch.Elapsed;
            var refusedCost = ProcessCost.Now().Since(start);

            if (repetition < 0) continue;
            var httpRate = Intents / httpTime.TotalSeconds;
            figures.Add("intents.http_to_paper_venue", httpRate, "intents/s");
            figures.Add("intents.grains_without_http", Intents / grainTime.TotalSeconds, "intents/s");
            figures.Add("intents.in_process_checks", checkRate, "intents/s");
            figures.Add("intents.http_vs_in_process", httpRate / checkRate, "x");
            figures.Add("intents.allocated_per_http_intent", (double)httpCost.AllocatedBytes / Intents, "bytes");
            figures.Add("intents.allocated_per_grain_intent", (double)grainCost.AllocatedBytes / Intents, "bytes");
            figures.Add("intents.gc_pause_share_http", 100 * httpCost.GcPaused / httpTime, "%");
            figures.Add("intents.cpu_per_http_intent", httpCost.Cpu.TotalMicroseconds / Intents, "µs");
            figures.Add("intents.cpu_per_grain_intent", grainCost.Cpu.TotalMicroseconds / Intents, "µs");
            figures.Add("intents.cpu_per_refused_http_request", refusedCost.Cpu.TotalMicroseconds / Intents, "µs");
            figures.Add("intents.refused_http_requests_per_s", Intents / refusedTime.TotalSeconds, "requests/s");
            figures.Add("intents.collections_per_1000_http_intents", 1000.0 * httpCost.Collections / Intents, "collections");
        }
        figures.ReportAll();

        await FixedLoadAsync(operatorHttp, signedIntents, agents, digests, deadline);
    }

    /// <summary>
    /// Quotes NVDA again, untimed. A trade needs a price at most 300 s old, and on a slow machine the whole run outlasts
    /// one quote (a run here stopped on <c>stale_price</c> in its last phase); the price stays the same, so no exit fires.
    /// </summary>
    private static Task QuotePriceAsync(HttpClient http) =>
        Post(http, "/api/v1/prices", new { prices = new[] { new { symbol = "NVDA", priceUsd = "130" } } });

    /// <summary>An add intent's request body, signed and encoded ahead of the timed loop like its signature.</summary>
    private static byte[] AddBody(FastIntentVerifier digests, BenchAgent agent, long deadline)
    {
        var intent = AddIntent(agent, deadline);
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            symbol = "NVDA", usdcAmount = "10", minTokenOut = "0", maxSlippageBps = 100, deadline, nonce = (long)intent.Nonce, signature = Sign(digests, intent, agent.Key),
        }, JsonOptions);
    }

    private static IntentRequest AddRequest(FastIntentVerifier digests, BenchAgent agent, long deadline)
    {
        var intent = AddIntent(agent, deadline);
        return new IntentRequest(IntentKind.AddToPosition, "NVDA", 10m, 0m, 0m, 0m, 100, [], deadline, (long)intent.Nonce, Sign(digests, intent, agent.Key));
    }

    private static AddToPositionIntent AddIntent(BenchAgent agent, long deadline) =>
        new(AgentIds.ToUint256(agent.AgentId), agent.Vault, agent.Token, 10_000_000, 0, 100, deadline, agent.NextNonce++);

    /// <summary>
    /// Signs the intent's EIP-712 digest directly: the same signature as <see cref="NethereumIntentSignatures.Sign"/>,
    /// whose typed-data encoding would make signing the benchmark's longest untimed step.
    /// </summary>
    private static string Sign(FastIntentVerifier digests, ISignedIntent intent, EthECKey key) =>
        EthECDSASignature.CreateStringSignature(key.SignAndCalculateV(digests.Digest(intent)));

    private const int OfferedPerSecond = 1_000;
    private const int LoadSeconds = 3;

    /// <summary>
    /// Latency at a fixed offered load: 1,000 signed add intents a second over HTTP for 3 s, spread evenly over the agents
    /// (each agent's in nonce order, as a real agent sends them), five times. A latency counts from when the intent was due
    /// to be sent, not from when it went out, so a slow answer that delays the agent's next intent is charged to that one too.
    /// The operator's client quotes the price; the agents' client, with no credential, sends the intents.
    /// </summary>
    private static async Task FixedLoadAsync(HttpClient operatorHttp, HttpClient signedIntents, List<BenchAgent> agents, FastIntentVerifier digests, long deadline)
    {
        var perAgent = OfferedPerSecond * LoadSeconds / agents.Count;
        var interval = TimeSpan.FromSeconds((double)agents.Count / OfferedPerSecond);
        var figures = new Report.RepeatedFigures();
        for (var repetition = 0; repetition < Repetitions; repetition++)
        {
            await QuotePriceAsync(operatorHttp);
            var bodies = agents.Select(agent => Enumerable.Range(0, perAgent).Select(_ => AddBody(digests, agent, deadline)).ToList()).ToList();
            var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(agents.Select(async (agent, a) =>
            {
                for (var i = 0; i < perAgent; i++)
                {
                    var due = interval * i + interval * a / agents.Count;
                    if (due - clock.Elapsed is { Ticks: > 0 } wait) await Task.Delay(wait);
                    await PostEncoded(signedIntents, $"/agents/{agent.AgentId}/add-intents", bodies[a][i]);
                    latencies.Add((clock.Elapsed - due).TotalMilliseconds);
                }
            }));
            var sorted = latencies.Order().ToList();
            double Percentile(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
            figures.Add("intents.achieved_per_s_at_1000_offered", sorted.Count / clock.Elapsed.TotalSeconds, "intents/s");
            figures.Add("intents.http_p50_at_1000_per_s", Percentile(0.50), "ms");
            figures.Add("intents.http_p99_at_1000_per_s", Percentile(0.99), "ms");
        }
        figures.ReportAll();
    }

    /// <summary>
    /// What the whole process (server, cluster and this HTTP client) has spent so far: bytes allocated, time the GC held
    /// every thread, CPU time, and collections (of any generation: each collects gen0, whose budget decides how many).
    /// Between two phases' snapshots it says what allocation costs, measured rather than read off a sampled profile, and
    /// the CPU per intent, which compares two versions of the code on a machine whose speed wanders (a shared virtual
    /// machine) better than a rate measured by the clock. The untimed signing before each HTTP phase lasts
    /// seconds, and the refused requests wait a second, so the previous phase's background work (events, timers) is done
    /// by the time a phase starts.
    /// </summary>
    private readonly record struct ProcessCost(long AllocatedBytes, TimeSpan GcPaused, TimeSpan Cpu, int Collections)
    {
        public static ProcessCost Now() => new(GC.GetTotalAllocatedBytes(precise: true), GC.GetTotalPauseDuration(), Environment.CpuUsage.TotalTime,
            GC.CollectionCount(0));

        public ProcessCost Since(ProcessCost start) =>
            new(AllocatedBytes - start.AllocatedBytes, GcPaused - start.GcPaused, Cpu - start.Cpu, Collections - start.Collections);
    }

    /// <summary>The same checks the agent grain makes, in a plain loop: signature, deadline, nonce, track and allocation.</summary>
    private static double InProcessChecks(Eip712Domain domain, long deadline)
    {
        var key = EthECKey.GenerateKey();
        var signer = key.GetPublicAddress();
        var verifier = new FastIntentVerifier(domain);
        var intents = Enumerable.Range(0, 500).Select(n => new AddToPositionIntent(1, $"0x{1:x40}", $"0x{2:x40}", 10_000_000, 0, 100, deadline, n)).ToArray();
        var signatures = intents.Select(i => Sign(verifier, i, key)).ToArray();
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

    private static async Task Post(HttpClient http, string path, object body) =>
        await EnsureSuccessAsync(path, await http.PostAsJsonAsync(path, body, JsonOptions));

    /// <summary>
    /// Sends an encoded body with its Content-Length, as curl and most HTTP clients send a JSON body. (PostAsJsonAsync
    /// streams the body chunked and encodes it inside the timed loop, on the two cores the server needs.)
    /// </summary>
    private static async Task PostEncoded(HttpClient http, string path, byte[] json)
    {
        using var content = Json(json);
        await EnsureSuccessAsync(path, await http.PostAsync(path, content));
    }

    /// <summary>The route of <see cref="PostRefusedAsync"/>: an add intent's, with an agent id that is no UUID.</summary>
    private const string RefusedPath = "/agents/not-an-agent-id/add-intents";

    /// <summary>Sends a body the gateway must refuse before any grain call; timed, so it reads the status only.</summary>
    private static async Task PostRefusedAsync(HttpClient http, byte[] json)
    {
        using var content = Json(json);
        using var response = await http.PostAsync(RefusedPath, content);
        if (response.StatusCode != System.Net.HttpStatusCode.BadRequest) throw new InvalidOperationException($"{RefusedPath}: {(int)response.StatusCode}, expected 400");
    }

    /// <summary>Checks once, untimed, that the refusal the timed requests count is the agent id's, not another 400.</summary>
    private static async Task ExpectRefusedAsync(HttpClient http, byte[] json)
    {
        using var content = Json(json);
        using var response = await http.PostAsync(RefusedPath, content);
        var answer = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != System.Net.HttpStatusCode.BadRequest || !answer.Contains("\"invalid_agent_id\"", StringComparison.Ordinal))
            throw new InvalidOperationException($"{RefusedPath}: {(int)response.StatusCode} {answer}, expected 400 invalid_agent_id");
    }

    /// <summary>An encoded JSON body, sent with its Content-Length.</summary>
    private static ByteArrayContent Json(byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return content;
    }

    private static async Task Put(HttpClient http, string path, object body) =>
        await EnsureSuccessAsync(path, await http.PutAsJsonAsync(path, body, JsonOptions));

    /// <summary>A setup or timed request that fails stops the benchmark, with what the server said.</summary>
    private static async Task EnsureSuccessAsync(string path, HttpResponseMessage response)
    {
        using (response)
        {
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
