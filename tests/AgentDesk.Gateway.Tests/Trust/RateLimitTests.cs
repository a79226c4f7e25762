using AgentDesk.Testing;
using AgentDesk.Gateway.Hosting;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>Rate limits keyed by who the caller turned out to be (this fixture: 50 a second per credential, 5 per anonymous address).</summary>
public sealed class RateLimitTests(StrictRatesFixture gateway) : IClassFixture<StrictRatesFixture>
{
    [Fact]
    public async Task A_key_over_its_rate_answers_429_with_retry_after_and_another_key_is_unaffected()
    {
        using var busy = await gateway.KeyAsync("operator", TestData.NewOrganization("R"));
        await busy.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found"); // the key is found once
        var statuses = await Task.WhenAll(Enumerable.Range(0, 80).Select(_ => busy.GetAsync($"/api/v1/accounts/{TestData.NewAddress()}")));
        Assert.Equal(80, statuses.Length);
        Assert.Contains(statuses, r => (int)r.StatusCode == 404); // served
        var limited = statuses.Where(r => (int)r.StatusCode == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.Equal("1", limited[0].Headers.RetryAfter!.ToString());
        var problem = await limited[0].Content.ReadFromJsonNodeAsync();
        Assert.Equal("rate_limited", problem["code"]!.GetValue<string>());
        Assert.Contains("for this caller", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal); // the key's own limit

        using var other = await gateway.KeyAsync("operator", TestData.NewOrganization("Q"));
        await other.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found");
    }

    [Fact]
    public async Task Inventing_a_new_key_per_request_buys_nothing_and_activates_no_grain()
    {
        var management = gateway.Cluster.GetGrain<IManagementGrain>(0);
        // The key directory is one grain: the first lookup may activate it, no later one activates anything.
        using (var first = gateway.Client("adk_" + Guid.NewGuid().ToString("N"))) await first.GetJsonAsync("/api/v1/api-keys");
        var before = await management.GetTotalActivationCount();
        var answers = new List<int>();
        var sending = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 30; i++)
        {
            using var invented = gateway.ClientFrom("203.0.113.61", ForwardingClients.InventedKey());
            answers.Add((await invented.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}")).Status);
        }
        Assert.Equal(30, answers.Count);
        // Refused as unknown while the address has requests left, then limited like any anonymous caller.
        Assert.All(answers, status => Assert.True(status is 401 or 429, $"got {status}"));
        Assert.Contains(429, answers);
        // Five in each one-second window the sequence touched.
        var allowed = 5 * ((int)Math.Ceiling(sending.Elapsed.TotalSeconds) + 1);
        Assert.True(answers.Count(s => s == 401) <= allowed, $"{answers.Count(s => s == 401)} refusals got through a limit of 5 a second (at most {allowed})");
        Assert.Equal(before, await management.GetTotalActivationCount());
    }

    [Fact]
    public async Task Invented_keys_from_one_address_stop_reaching_the_key_directory_at_its_limit_and_keys_in_use_there_still_work()
    {
        using var outcomes = new UnknownKeyOutcomes();

        // A key in use from the address before the invented ones start.
        using var issued = await gateway.KeyAsync("operator", TestData.NewOrganization("K"));
        var issuedKey = issued.DefaultRequestHeaders.GetValues("x-api-key").Single();
        using var before = gateway.ClientFrom("203.0.113.60", issuedKey);
        Assert.Equal(404, await before.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}")); // served: no such account

        // One address, a new key each time, all at once: only the address's first 5 a second (the fixture's anonymous limit)
        // are looked up, however many are in flight.
        var spraying = System.Diagnostics.Stopwatch.StartNew();
        var answers = await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => InventedKeyAsync()));
        // Five in each one-second window the sequence touched.
        var allowed = 5 * ((int)Math.Ceiling(spraying.Elapsed.TotalSeconds) + 1);
        Assert.All(answers, status => Assert.True(status is 401 or 429, $"got {status}"));
        Assert.True(outcomes["looked_up"] <= allowed, $"the key directory looked up {outcomes["looked_up"]} invented keys from one address (at most {allowed})");
        Assert.Equal(60, outcomes["looked_up"] + outcomes["limited"]);
        Assert.True(answers.Count(s => s == 429) >= 60 - allowed, $"only {answers.Count(s => s == 429)} of 60 were limited (at least {60 - allowed})");

        // Neither the admin key nor a key found lately is held back by the invented ones from the same address (each sent right
        // after six more invented ones, so that the address is over its limit when it arrives).
        using var admin = gateway.ClientFrom("203.0.113.60", GatewayFixture.AdminKey);
        for (var i = 0; i < 6; i++) await InventedKeyAsync();
        Assert.Equal(200, await admin.StatusOfAsync("/api/v1/api-keys"));
        using var after = gateway.ClientFrom("203.0.113.60", issuedKey);
        for (var i = 0; i < 6; i++) await InventedKeyAsync();
        Assert.Equal(404, await after.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}"));

        // A key the directory refused is refused again without a lookup (401, or 429 from the anonymous limit after
        // authentication): a client retrying an expired key spends none of its address's new keys.
        using var refused = gateway.ClientFrom("203.0.113.62", ForwardingClients.InventedKey());
        var lookedUpBefore = outcomes["looked_up"];
        var retries = new List<int>();
        for (var i = 0; i < 20; i++) retries.Add(await refused.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}"));
        Assert.Equal(401, retries[0]);
        Assert.All(retries, status => Assert.True(status is 401 or 429, $"got {status}")); // 429: the anonymous limit after authentication
        Assert.Equal(lookedUpBefore + 1, outcomes["looked_up"]);
        Assert.Equal(19, outcomes["refused_before"]);
        // A key just issued, never used, waits out the address's second like an invented one (sent right after six more
        // invented ones, so that the limiter's window cannot have turned in between; up to three tries, a new key each).
        var freshLimited = false;
        for (var attempt = 0; attempt < 3 && !freshLimited; attempt++)
        {
            using var fresh = await gateway.KeyAsync("operator", TestData.NewOrganization("K"));
            using var freshFrom = gateway.ClientFrom("203.0.113.60", fresh.DefaultRequestHeaders.GetValues("x-api-key").Single());
            for (var i = 0; i < 6; i++) await InventedKeyAsync();
            freshLimited = await freshFrom.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}") == 429;
        }
        Assert.True(freshLimited, "A key never found before was looked up from an address over its limit of unknown keys.");

        async Task<int> InventedKeyAsync()
        {
            using var invented = gateway.ClientFrom("203.0.113.60", ForwardingClients.InventedKey());
            return await invented.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}");
        }
    }

    [Fact]
    public async Task New_keys_from_many_addresses_reach_the_key_directory_at_the_gateways_limit_in_all()
    {
        using var outcomes = new UnknownKeyOutcomes();

        // Sixteen addresses, each within its own 5 a second: 80 new keys at once against the fixture's 20 a second in all.
        var spraying = System.Diagnostics.Stopwatch.StartNew();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 80).Select(async i =>
        {
            using var invented = gateway.ClientFrom($"198.51.100.{100 + i % 16}", ForwardingClients.InventedKey());
            return await invented.StatusOfAsync($"/api/v1/accounts/{TestData.NewAddress()}");
        }));
        var allowed = 20 * ((int)Math.Ceiling(spraying.Elapsed.TotalSeconds) + 1);
        Assert.All(statuses, status => Assert.True(status is 401 or 429, $"got {status}"));
        Assert.True(outcomes["looked_up"] <= allowed, $"the key directory looked up {outcomes["looked_up"]} new keys (at most {allowed})");
        Assert.Contains(429, statuses);
        // The next test starts in a window of its own.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
    }

    [Fact]
    public async Task Inventing_an_agent_id_per_request_buys_nothing_on_the_public_agent_routes()
    {
        using var caller = gateway.ClientFrom("203.0.113.10");
        // Each to an agent id nobody registered: without a limit, each is an agent grain activated and its state read.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => caller.StatusOfAsync($"/agents/{Guid.NewGuid()}/positions")));
        Assert.All(statuses, status => Assert.True(status is 404 or 429, $"got {status}"));
        Assert.Contains(404, statuses);
        Assert.Contains(429, statuses);
    }

    [Fact]
    public async Task Another_address_cannot_drain_an_agents_bucket_and_the_anonymous_limit_does_not_hold_it()
    {
        using var stranger = gateway.ClientFrom("203.0.113.11");
        using var agent = gateway.ClientFrom("203.0.113.12");
        var agentId = Guid.NewGuid();
        var junk = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => stranger.StatusOfAsync($"/agents/{agentId}/positions")));
        Assert.Contains(429, junk);
        // The agent's own address still has its whole bucket: twenty at once, four times the anonymous limit (5 a second).
        var own = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => agent.StatusOfAsync($"/agents/{agentId}/positions")));
        Assert.All(own, status => Assert.Equal(404, status));
    }

    [Fact]
    public async Task Addresses_a_client_puts_before_the_proxys_own_choose_no_bucket()
    {
        // The proxy's entry is the last: the second caller shares the first's bucket whatever it wrote before that entry.
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("198.51.100.1, 203.0.113.30", "198.51.100.2, 203.0.113.30"),
            "A client chose its rate-limit bucket with an address written before its proxy's.");
        // A last entry that is no address leaves the proxy's own: served, not refused.
        using var garbled = gateway.ClientFrom("203.0.113.31, not an address");
        Assert.Equal(404, await garbled.StatusOfAsync($"/agents/{Guid.NewGuid()}/positions"));
    }

    [Fact]
    public void A_trusted_proxy_must_be_an_address_or_a_network()
    {
        static bool Valid(params string[] proxies)
        {
            var options = new GatewayOptions { TrustedProxies = [.. proxies] };
            return System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), null, validateAllProperties: true);
        }
        Assert.True(Valid("10.0.0.0/8", "127.0.0.1", "::1", "fd00::/8", "2001:db8::7"));
        Assert.False(Valid("10.0.0.0/8", "ingress-nginx"));
        Assert.False(Valid("10.0.0.0/33"));
        // Forms the address parser reads as some other host: 0.0.0.10, 10.0.0.1, 8.0.0.1, and the network 0.0.0.10/32.
        Assert.False(Valid("10"));
        Assert.False(Valid("10.1"));
        Assert.False(Valid("010.0.0.1"));
        Assert.False(Valid("10/32"));
        // Bits set past the prefix: a typo for 10.0.0.0/8 or for the host 10.0.0.1.
        Assert.False(Valid("10.0.0.1/8"));
        Assert.False(Valid("fd00::1/8"));
    }

    [Fact]
    public async Task An_ipv6_client_is_one_caller_per_64_and_an_ipv4_client_one_in_either_form()
    {
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("2001:db8:0:1::1", "2001:db8:0:1:ffff:ffff:ffff:ffff"),
            "Two addresses of one IPv6 /64 got a bucket each: a holder of a /64 could rotate past every limit.");
        Assert.False(await gateway.SharesAgentRoutesBucketAsync("2001:db8:0:2::1", "2001:db8:0:3::1"),
            "Two IPv6 /64s shared a bucket.");
        // A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d; NAT64, 6to4 and Teredo addresses carry one inside.
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("203.0.113.40", "::ffff:203.0.113.40"),
            "An IPv4 client written as an IPv4-mapped IPv6 address got a bucket of its own.");
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("203.0.113.41", "64:ff9b::cb00:7129"), "A NAT64 address got a bucket apart from its IPv4 client's.");
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("203.0.113.42", "2002:cb00:712a:1::1"), "A 6to4 address got a bucket apart from its IPv4 host's.");
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("2002:cb00:712b:1::1", "2002:cb00:712b:2::1"),
            "One IPv4 host's 6to4 networks got a bucket each.");
        // Teredo: the client's address, 203.0.113.44, inverted in the last 32 bits.
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("203.0.113.44", "2001:0:4136:e378:8000:63bf:34ff:8ed3"),
            "A Teredo address got a bucket apart from its IPv4 client's.");
        Assert.False(await gateway.SharesAgentRoutesBucketAsync("64:ff9b::cb00:712d", "64:ff9b::cb00:712e"),
            "Two IPv4 clients of one NAT64 gateway shared a bucket.");
    }
}

/// <summary>With no trusted proxy, a client that names another address in <c>X-Forwarded-For</c> is still its connection's address.</summary>
public sealed class UntrustedForwardingTests(StrictRatesWithoutProxyFixture gateway) : IClassFixture<StrictRatesWithoutProxyFixture>
{
    [Fact]
    public async Task Without_a_trusted_proxy_x_forwarded_for_buys_no_bucket_of_its_own()
    {
        // Ignored, the header leaves the second caller in the bucket the first emptied; honoured, it would give it its own.
        Assert.True(await gateway.SharesAgentRoutesBucketAsync("203.0.113.20", "203.0.113.21"),
            "A client naming another address in X-Forwarded-For got a bucket of its own from a gateway that trusts no proxy.");
    }
}

internal static class ForwardingClients
{
    /// <summary>A client that a proxy says is <paramref name="address"/>, sending <paramref name="apiKey"/> if any.</summary>
    public static HttpClient ClientFrom(this GatewayFixture gateway, string address, string? apiKey = null)
    {
        var client = gateway.Client(apiKey);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return client;
    }

    /// <summary>A key of the issued keys' form that nobody issued.</summary>
    public static string InventedKey() => "adk_" + Guid.NewGuid().ToString("N");

    public static async Task<int> StatusOfAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return (int)response.StatusCode;
    }

    /// <summary>
    /// Whether a caller whose <c>X-Forwarded-For</c> is <paramref name="second"/> lands in the public agent routes' bucket of one
    /// whose header is <paramref name="first"/>: the first empties its bucket (60 requests against the fixtures' 50 a second),
    /// then the second sends one. Up to three tries, in case one falls across the limiter's one-second window.
    /// </summary>
    public static async Task<bool> SharesAgentRoutesBucketAsync(this GatewayFixture gateway, string first, string second)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var emptying = gateway.ClientFrom(first);
            using var next = gateway.ClientFrom(second);
            await Task.WhenAll(Enumerable.Range(0, 60).Select(_ => emptying.StatusOfAsync($"/agents/{Guid.NewGuid()}/positions")));
            if (await next.StatusOfAsync($"/agents/{Guid.NewGuid()}/positions") == 429) return true;
        }
        return false;
    }
}

/// <summary>Counts <c>agentdesk.auth.unknown_keys</c> by outcome while it lives (the tests run one at a time, so the counts are one test's).</summary>
internal sealed class UnknownKeyOutcomes : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public UnknownKeyOutcomes()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "agentdesk.auth.unknown_keys") listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "outcome", Value: string outcome }) lock (_counts) _counts[outcome] = _counts.GetValueOrDefault(outcome) + value;
        });
        _listener.Start();
    }

    /// <summary>How many requests had <paramref name="outcome"/> (looked_up, refused_before, limited) so far.</summary>
    public long this[string outcome]
    {
        get
        {
            lock (_counts) return _counts.GetValueOrDefault(outcome);
        }
    }

    public void Dispose() => _listener.Dispose();
}

internal static class ResponseJson
{
    public static async Task<System.Text.Json.Nodes.JsonNode> ReadFromJsonNodeAsync(this HttpContent content) =>
        System.Text.Json.Nodes.JsonNode.Parse(await content.ReadAsStringAsync())!;
}
