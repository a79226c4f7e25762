using System.Text;
using System.Text.Json.Nodes;
using AgentDesk.Testing;
using CsCheck;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>
/// Generated hostile input for every endpoint: random and mutated bodies, paths and headers, from callers who may not
/// change the world (anonymous, invented keys, another organisation) and from its owner with a body that can never be
/// valid (it always carries an unknown field). No answer may be a 5xx, and the world's state must be exactly as before.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class GeneratedInputTests(GatewayFixture gateway)
{
    private static readonly (string Method, string Path)[] Endpoints =
    [
        ("POST", "/agent/register"), ("POST", "/agent/batch-open"), ("POST", "/agent/batch-close"),
        ("GET", "/api/v1/agent-positions/{agent}"), ("POST", "/api/v1/agent-positions/{agent}/{position}/close"),
        ("GET", "/api/v1/agents/{agent}"), ("GET", "/api/v1/agents/{agent}/positions"), ("POST", "/api/v1/agents/{agent}/subscribers"),
        ("GET", "/api/v1/agents/{agent}/subscribers"), ("DELETE", "/api/v1/agents/{agent}/subscribers/{account}"),
        ("PUT", "/api/v1/agents/{agent}/vault"), ("PUT", "/api/v1/agents/{agent}/track"), ("PUT", "/api/v1/agents/{agent}/signer"),
        ("POST", "/api/v1/agents/{agent}/pause"), ("POST", "/api/v1/agents/{agent}/resume"),
        ("GET", "/agents/{agent}/trade-intents/quote"), ("GET", "/agents/{agent}/add-intents/quote"), ("GET", "/agents/{agent}/reduce-intents"),
        ("POST", "/agents/{agent}/trade-intents"), ("POST", "/agents/{agent}/add-intents"), ("POST", "/agents/{agent}/reduce-intents"),
        ("POST", "/agents/{agent}/exit-ladder-intents"), ("GET", "/agents/{agent}/positions"),
        ("POST", "/api/v1/accounts"), ("POST", "/api/v1/accounts/{account}/deposits"), ("GET", "/api/v1/accounts/{account}"),
        ("POST", "/api/v1/vaults"), ("GET", "/api/v1/vaults/{vault}"), ("PUT", "/api/v1/vaults/{vault}/tokens/{symbol}"), ("PUT", "/api/v1/vaults/{vault}/capital"),
        ("GET", "/vaults/{vault}/tokens"), ("POST", "/api/v1/prices"), ("POST", "/api/v1/prices/{symbol}/accept-held"), ("GET", "/prices"),
        ("GET", "/api/v1/batches/{batch}"), ("GET", "/api/v1/fees/{account}"), ("POST", "/api/v1/api-keys"), ("GET", "/api/v1/api-keys"),
        ("DELETE", "/api/v1/api-keys/{key}"), ("GET", "/health"),
    ];

    private static readonly string[] Fields =
    [
        "agentId", "symbol", "action", "weight", "leverage", "orderOptions", "smartAccount", "amount", "depositId", "vaultId", "address", "decimals",
        "allocationUsdc", "capitalUsdc", "track", "signerAddress", "signature", "nonce", "deadline", "usdcAmount", "tokenAmount", "minTokenOut",
        "maxSlippageBps", "exits", "prices", "priceUsd", "role", "organization", "expiresAt", "batchId", "reason", "agentFees", "name",
    ];

    private static readonly Gen<string> Garbage = Gen.OneOfConst(
        "", " ", "null", "%00", "..%2F..%2Fetc", "0x", "0x" + new string('g', 40), new string('a', 3_000), "💥", "-1", "1e309", "NaN",
        "00000000-0000-0000-0000-000000000000", "' OR 1=1 --", "<script>", "SOL/USD");

    private static readonly Gen<JsonNode?> Value = Gen.Recursive<JsonNode?>((depth, inner) => depth > 2
        ? Gen.OneOf<JsonNode?>(Gen.Const((JsonNode?)null), Gen.Int.Select(i => (JsonNode?)i), Garbage.Select(s => (JsonNode?)s))
        : Gen.OneOf<JsonNode?>(
            Gen.Const((JsonNode?)null), Gen.Bool.Select(b => (JsonNode?)b), Gen.Int.Select(i => (JsonNode?)i), Gen.Long.Select(l => (JsonNode?)l),
            Gen.Double.Select(d => double.IsFinite(d) ? (JsonNode?)d : "inf"), Gen.Decimal.Select(d => (JsonNode?)d), Garbage.Select(s => (JsonNode?)s),
            Gen.String.Select(s => (JsonNode?)s),
            inner.Array[0, 3].Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray())),
            inner.Array[0, 3].Select(items => (JsonNode?)new JsonObject(items.Select((v, i) => KeyValuePair.Create<string, JsonNode?>(Fields[i % Fields.Length], v?.DeepClone()))))));

    [Fact]
    public async Task No_generated_request_answers_5xx_or_changes_the_world()
    {
        var world = await WorldAsync();
        using var otherOrganisation = await gateway.KeyAsync("operator", TestData.NewOrganization("Z"));
        var before = await SnapshotAsync(world);

        using var bare = gateway.Client(); // no default credential: each request carries only what the generator chose
        var requests = Gen.Select(Gen.Int[0, Endpoints.Length - 1], Gen.Int[0, 4], Value.Array[0, 6], Gen.Int[0, 5], Garbage, Gen.Int[0, 3]);
        var failures = new List<string>();
        await requests.SampleAsync(async sample =>
        {
            var (endpoint, caller, values, pathChoice, garbage, contentChoice) = sample;
            var headerGarbage = Uri.EscapeDataString(garbage); // HTTP headers carry ASCII only
            var (method, template) = Endpoints[endpoint];
            var path = FillPath(template, world, pathChoice, garbage);
            var body = new JsonObject();
            for (var i = 0; i < values.Length; i++) body[Fields[(endpoint + i * 7) % Fields.Length]] = values[i]?.DeepClone();
            body["unexpected" + endpoint] = "an unknown field: no body with it can ever be valid";
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (method != "GET")
            {
                var text = contentChoice == 3 ? body.ToJsonString()[..Math.Max(1, body.ToJsonString().Length / 2)] : body.ToJsonString();
                request.Content = new StringContent(text, Encoding.UTF8, contentChoice == 2 ? "text/plain" : "application/json");
            }
            switch (caller)
            {
                case 0: break; // anonymous
                case 1: request.Headers.TryAddWithoutValidation("x-api-key", "adk_" + headerGarbage); break;
                case 2: request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + (headerGarbage.Length == 0 ? "x" : headerGarbage[..Math.Min(headerGarbage.Length, 500)])); break;
                case 3: request.Headers.TryAddWithoutValidation("x-api-key", OtherKey(otherOrganisation)); break;
                // The owner, only where its request has a body, which the unknown field makes invalid (bodyless commands such as
                // pause are legitimate for the owner whatever else is sent).
                default: if (method is "POST" or "PUT" && !Bodyless.Any(template.EndsWith)) request.Headers.TryAddWithoutValidation("x-api-key", GatewayFixture.AdminKey); break;
            }
            if (pathChoice == 5) request.Headers.TryAddWithoutValidation("Idempotency-Key", headerGarbage);
            using var response = await bare.SendAsync(request);
            if (method != "GET" && (int)response.StatusCode < 300)
            {
                var text = await response.Content.ReadAsStringAsync();
                lock (failures) failures.Add($"accepted {method} {path} as caller {caller}: {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}");
            }
            if ((int)response.StatusCode >= 500)
            {
                var text = await response.Content.ReadAsStringAsync();
                lock (failures) failures.Add($"{method} {path} as caller {caller}: {(int)response.StatusCode} {text}");
            }
        }, iter: 400, threads: 1);

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal(before, await SnapshotAsync(world));
    }

    private static readonly string[] Bodyless = ["/pause", "/resume", "/accept-held"];

    private static string OtherKey(HttpClient client) => client.DefaultRequestHeaders.GetValues("x-api-key").Single();

    private sealed record World(string Agent, string Account, string Vault, string Batch, string Position, string Symbol, string IntentAgent, string IntentSymbol);

    private async Task<World> WorldAsync()
    {
        var http = gateway.Http;
        var world = new OrgWorld(http);
        var agent = await world.AgentAsync();
        var account = await world.AccountAsync("500", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(http, symbol, "100");
        var batch = await world.BatchOpenAsync(agent, symbol, stopLoss: 50);
        var (intentAgent, _, intentSymbol, vault) = await AlphaGridStoryTests.SetUpAsync(http);
        return new World(agent, account, vault, batch["batchId"]!.GetValue<string>(), batch["results"]![0]!["result"]!["positionId"]!.GetValue<string>(),
            symbol, intentAgent, intentSymbol);
    }

    private static string FillPath(string template, World world, int choice, string garbage)
    {
        string Pick(string real) => choice switch
        {
            0 or 1 => real,
            2 => Uri.EscapeDataString(garbage),
            3 => real.ToUpperInvariant(),
            _ => Guid.NewGuid().ToString(),
        };
        return template
            .Replace("{agent}", Pick(choice == 1 ? world.IntentAgent : world.Agent))
            .Replace("{account}", Pick(world.Account))
            .Replace("{position}", Pick(world.Position))
            .Replace("{vault}", Pick(world.Vault))
            .Replace("{batch}", Pick(world.Batch))
            .Replace("{symbol}", Pick(world.Symbol))
            .Replace("{key}", Pick("key_0000"));
    }

    /// <summary>Everything a hostile request could have changed: balances, positions, nonces, the vault, the prices.</summary>
    private async Task<string> SnapshotAsync(World world)
    {
        var http = gateway.Http;
        var parts = new[]
        {
            await http.GetJsonAsync($"/api/v1/accounts/{world.Account}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/agents/{world.Agent}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/agents/{world.IntentAgent}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/agent-positions/{world.Agent}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/vaults/{world.Vault}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/batches/{world.Batch}").OkAsync(),
            await http.GetJsonAsync($"/prices?symbols={world.Symbol},{world.IntentSymbol}").OkAsync(),
            await http.GetJsonAsync($"/api/v1/agents/{world.Agent}/subscribers").OkAsync(),
        };
        // Market values move with nothing; everything else must not.
        foreach (var position in parts[3].AsArray()) position!.AsObject().Remove("current");
        return string.Join("\n", parts.Select(p => p.ToJsonString()));
    }
}
