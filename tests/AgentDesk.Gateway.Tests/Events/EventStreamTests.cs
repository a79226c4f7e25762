using AgentDesk.Gateway.Tests.Trust;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Events;

/// <summary><c>GET /api/v1/events</c> over real HTTP: live events, resuming with Last-Event-ID, filters, tenancy, heartbeats.</summary>
public sealed class EventStreamTests(EventsFixture gateway) : IClassFixture<EventsFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private async Task<(OrgWorld World, string Agent, List<string> Accounts, string Symbol)> TradingOrgAsync(int subscribers)
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Sse")));
        var agent = await world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < subscribers; i++) accounts.Add(await world.AccountAsync("100", subscribeTo: agent));
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        return (world, agent, accounts, symbol);
    }

    private static int Count(List<SseMessage> events, string type) => events.Count(e => e.Event == type);

    [Fact]
    public async Task A_batch_and_its_stops_arrive_live_and_a_reconnect_with_Last_Event_ID_resumes_without_gap_or_duplicate()
    {
        var (world, agent, accounts, symbol) = await TradingOrgAsync(3);
        await using var live = await EventStreamClient.OpenAsync(world.Http, "/api/v1/events");
        var batch = await world.BatchOpenAsync(agent, symbol, stopLoss: 90);

        var first = await live.EventsUntilAsync(e => Count(e, "batch.completed") == 1 && Count(e, "position.filled") == 3, Wait, "the batch's events");
        Assert.Equal("batch.started", first[0].Event);
        Assert.Equal(first.Select(e => e.Id), first.Select(e => e.Id).Order());
        var completed = first.Single(e => e.Event == "batch.completed").Json;
        Assert.Equal(batch["batchId"]!.GetValue<string>(), completed["data"]!["batchId"]!.GetValue<string>());
        Assert.Equal(3, completed["data"]!["successful"]!.GetValue<int>());
        Assert.All(first, e => Assert.Equal(e.Id, e.Json["id"]!.GetValue<long>()));
        Assert.All(first, e => Assert.Equal(e.Event, e.Json["type"]!.GetValue<string>()));
        Assert.Equal(accounts.Order(), first.Where(e => e.Event == "position.filled").Select(e => e.Json["account"]!.GetValue<string>()).Order());

        // Disconnected after the second event, the client misses the stops firing.
        var resumeAfter = first[1].Id!.Value;
        await live.DisposeAsync();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "89");

        await using var resumed = await EventStreamClient.OpenAsync(world.Http, "/api/v1/events", lastEventId: resumeAfter.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var rest = await resumed.EventsUntilAsync(e => Count(e, "position.exited") == 3 && Count(e, "position.settled") == 3, Wait, "the stops");
        Assert.Equal(first.Skip(2).Select(e => e.Id), rest.Take(first.Count - 2).Select(e => e.Id));
        Assert.Equal(rest.Count, rest.Select(e => e.Id).Distinct().Count());
        Assert.Equal(rest.Select(e => e.Id), rest.Select(e => e.Id).Order());
        Assert.All(rest.Where(e => e.Event == "position.exited"), e => Assert.Equal("stop_loss", e.Json["data"]!["reason"]!.GetValue<string>()));

        // The same history replayed from the start (the query form, for clients that cannot set headers) is the same events.
        await using var replay = await EventStreamClient.OpenAsync(world.Http, "/api/v1/events?lastEventId=0");
        var all = await replay.EventsUntilAsync(e => e.Count >= first.Count + rest.Count - (first.Count - 2), Wait, "the replay");
        Assert.Equal(first.Take(2).Concat(rest).Select(e => (e.Id, e.Data)), all.Select(e => (e.Id, e.Data)));
    }

    [Fact]
    public async Task Filters_by_agent_and_type_pass_only_the_matching_events()
    {
        var (world, agent, _, symbol) = await TradingOrgAsync(2);
        var other = await world.AgentAsync();
        await world.AccountAsync("100", subscribeTo: other);
        await using var exits = await EventStreamClient.OpenAsync(world.Http, $"/api/v1/events?agentId={agent}&types=position.exited,agent.paused");
        await world.BatchOpenAsync(agent, symbol, stopLoss: 90);
        await world.BatchOpenAsync(other, symbol, stopLoss: 90);
        await OrgWorld.PriceAsync(gateway.Http, symbol, "89");
        // The stops fire on their own time: the pauses are sent once the agent's two exits are in, so the order is known.
        var seen = await exits.EventsUntilAsync(e => Count(e, "position.exited") == 2, Wait, "the agent's stops");
        await world.Http.PostAsync($"/api/v1/agents/{other}/pause").OkAsync();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();

        seen.AddRange(await exits.EventsUntilAsync(e => Count(e, "agent.paused") == 1, Wait, "the agent's pause"));
        Assert.Equal(["position.exited", "position.exited", "agent.paused"], seen.Select(e => e.Event));
        Assert.All(seen, e => Assert.Equal(agent, e.Json["agentId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Another_organisation_sees_none_of_the_events_and_cannot_filter_by_the_agent()
    {
        var (world, agent, _, symbol) = await TradingOrgAsync(1);
        using var stranger = await gateway.KeyAsync("operator", TestData.NewOrganization("Other"));
        await stranger.GetJsonAsync($"/api/v1/events?agentId={agent}").ProblemAsync(404, "agent_not_found");
        await using var theirs = await EventStreamClient.OpenAsync(stranger, "/api/v1/events?lastEventId=0");
        await using var ours = await EventStreamClient.OpenAsync(world.Http, "/api/v1/events?lastEventId=0");
        await world.BatchOpenAsync(agent, symbol);
        await ours.EventsUntilAsync(e => Count(e, "batch.completed") == 1, Wait, "our batch");

        // Nothing but heartbeats reaches the other organisation while ours trades.
        Assert.StartsWith("events after 0", (await theirs.NextAsync(TimeSpan.FromSeconds(5))).Comment, StringComparison.Ordinal);
        for (var i = 0; i < 2; i++) Assert.Equal("heartbeat", (await theirs.NextAsync(TimeSpan.FromSeconds(5))).Comment);
    }

    [Fact]
    public async Task A_stream_ends_once_its_key_is_revoked_and_the_key_cannot_open_another()
    {
        var organization = TestData.NewOrganization("Leak");
        var issued = await gateway.Http.PostAsync("/api/v1/api-keys", new { role = "operator", organization }).OkAsync();
        using var leaked = gateway.Client(issued["apiKey"]!.GetValue<string>());
        await using var stream = await EventStreamClient.OpenAsync(leaked, "/api/v1/events");
        Assert.StartsWith("events after", (await stream.NextAsync(TimeSpan.FromSeconds(5))).Comment, StringComparison.Ordinal);
        // Another key of the same organisation, kept, follows the same log meanwhile.
        using var kept = await gateway.KeyAsync("operator", organization);
        await using var keptStream = await EventStreamClient.OpenAsync(kept, "/api/v1/events");

        await gateway.Http.DeleteJsonAsync($"/api/v1/api-keys/{issued["keyId"]!.GetValue<string>()}").OkAsync();

        // Within a few heartbeats (1 s here) the open stream ends, instead of carrying the organisation's events on.
        var ended = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            for (var i = 0; i < 10; i++) await stream.NextAsync(TimeSpan.FromSeconds(5));
        });
        Assert.Contains("closed the stream", ended.Message, StringComparison.Ordinal);
        await leaked.GetJsonAsync("/api/v1/events").ProblemAsync(401, "invalid_credentials");
        // The kept key's stream is still open: it was the revocation that ended the other, not the log.
        for (var i = 0; i < 3; i++) Assert.NotNull(await keptStream.NextAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task One_credential_holds_at_most_twenty_streams_at_once()
    {
        using var key = await gateway.KeyAsync("operator", TestData.NewOrganization("Many"));
        var streams = new List<EventStreamClient>();
        try
        {
            for (var i = 0; i < 20; i++) streams.Add(await EventStreamClient.OpenAsync(key, "/api/v1/events"));
            await key.GetJsonAsync("/api/v1/events").ProblemAsync(429, "rate_limited");
            // Another credential is not affected, and a closed stream frees its place.
            using var other = await gateway.KeyAsync("operator", TestData.NewOrganization("Other"));
            await using (await EventStreamClient.OpenAsync(other, "/api/v1/events")) { }
            await streams[0].DisposeAsync();
            streams.RemoveAt(0);
            streams.Add(await Eventually.WaitForAsync(async () =>
            {
                try { return await EventStreamClient.OpenAsync(key, "/api/v1/events"); }
                catch (Xunit.Sdk.XunitException) { return null; }
            }, s => s is not null, TimeSpan.FromSeconds(10), "a place for another stream") ?? throw new InvalidOperationException());
        }
        finally
        {
            foreach (var stream in streams) await stream.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_idle_stream_sends_heartbeat_comments()
    {
        using var quiet = await gateway.KeyAsync("operator", TestData.NewOrganization("Quiet"));
        await using var stream = await EventStreamClient.OpenAsync(quiet, "/api/v1/events");
        var opening = await stream.NextAsync(TimeSpan.FromSeconds(5));
        Assert.StartsWith("events after 0", opening.Comment, StringComparison.Ordinal);
        Assert.Equal("heartbeat", (await stream.NextAsync(TimeSpan.FromSeconds(5))).Comment);
        Assert.Equal("heartbeat", (await stream.NextAsync(TimeSpan.FromSeconds(5))).Comment);
    }

    [Fact]
    public async Task A_held_outlier_is_reported_to_the_oracle_s_organisation()
    {
        var organization = TestData.NewOrganization("Orc");
        using var oracle = await gateway.KeyAsync("oracle", organization);
        using var operatorKey = await gateway.KeyAsync("operator", organization);
        await using var stream = await EventStreamClient.OpenAsync(operatorKey, "/api/v1/events?types=price.held");
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(oracle, symbol, "100");
        await OrgWorld.PriceAsync(oracle, symbol, "500");

        var held = Assert.Single(await stream.EventsUntilAsync(e => e.Count == 1, Wait, "the held price")).Json;
        Assert.Equal(symbol, held["symbol"]!.GetValue<string>());
        Assert.Equal(500m, held["data"]!["heldPriceUsd"]!.GetValue<decimal>());
        Assert.Equal(100m, held["data"]!["lastPriceUsd"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("/api/v1/events?types=position.exitted", null, 400, "invalid_event_types")]
    [InlineData("/api/v1/events?agentId=not-a-uuid", null, 400, "invalid_agent_id")]
    [InlineData("/api/v1/events?lastEventId=-1", null, 400, "invalid_cursor")]
    [InlineData("/api/v1/events", "abc", 400, "invalid_cursor")]
    [InlineData("/api/v1/events", "9223372036854775807", 400, "invalid_cursor")]
    [InlineData("/api/v1/events?types=*,bogus", null, 400, "invalid_event_types")]
    public async Task Bad_filters_and_cursors_are_refused_before_the_stream_starts(string path, string? lastEventId, int status, string code)
    {
        var headers = lastEventId is null ? null : new Dictionary<string, string> { ["Last-Event-ID"] = lastEventId };
        await gateway.Http.SendAsync(HttpMethod.Get, path, headers: headers).ProblemAsync(status, code);
    }

    [Fact]
    public async Task The_stream_needs_an_operator_credential()
    {
        using var anonymous = gateway.Client();
        await anonymous.GetJsonAsync("/api/v1/events").ProblemAsync(401, "unauthenticated");
        using var oracle = await gateway.KeyAsync("oracle", TestData.NewOrganization("O"));
        await oracle.GetJsonAsync("/api/v1/events").ProblemAsync(403, "forbidden");
    }
}
