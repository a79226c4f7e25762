using System.Text.Json.Nodes;
using AgentDesk.Gateway.Tests.Trust;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Events;

/// <summary>Webhooks over real HTTP: registration rules and tenancy, signed deliveries in id order through an outage, the delivery log.</summary>
public sealed class WebhookTests(EventsFixture gateway) : IClassFixture<EventsFixture>
{
    private const string Secret = "whsec-test-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly string[] Every = ["*"];
    private static readonly string[] ExitsAndBatches = ["position.exited", "batch.completed"];
    private static readonly string[] PauseAndResume = ["agent.paused", "agent.resumed"];

    [Fact]
    public async Task A_webhook_is_registered_listed_read_and_deleted_within_its_organisation_and_its_secret_is_never_shown()
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Wh"));
        var created = await ops.PostAsync("/api/v1/webhooks", new { url = "https://hooks.example.com/in", events = ExitsAndBatches, secret = Secret }).OkAsync();
        var id = created["webhookId"]!.GetValue<string>();
        Assert.Equal("https://hooks.example.com/in", created["url"]!.GetValue<string>());
        Assert.Equal(["batch.completed", "position.exited"], created["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.DoesNotContain(Secret, created.ToJsonString(), StringComparison.Ordinal);
        Assert.Null(created["secret"]);

        var listed = await ops.GetJsonAsync("/api/v1/webhooks").OkAsync();
        Assert.Equal(id, Assert.Single(listed["webhooks"]!.AsArray())!["webhookId"]!.GetValue<string>());
        var read = await ops.GetJsonAsync($"/api/v1/webhooks/{id}").OkAsync();
        Assert.DoesNotContain(Secret, read.ToJsonString(), StringComparison.Ordinal);
        Assert.Empty((await ops.GetJsonAsync($"/api/v1/webhooks/{id}/deliveries").OkAsync())["deliveries"]!.AsArray());

        // Another organisation's webhook does not exist for the caller.
        using var stranger = await gateway.KeyAsync("operator", TestData.NewOrganization("Wx"));
        await stranger.GetJsonAsync($"/api/v1/webhooks/{id}").ProblemAsync(404, "webhook_not_found");
        await stranger.GetJsonAsync($"/api/v1/webhooks/{id}/deliveries").ProblemAsync(404, "webhook_not_found");
        await stranger.DeleteJsonAsync($"/api/v1/webhooks/{id}").ProblemAsync(404, "webhook_not_found");
        Assert.Empty((await stranger.GetJsonAsync("/api/v1/webhooks").OkAsync())["webhooks"]!.AsArray());

        await ops.DeleteJsonAsync($"/api/v1/webhooks/{id}").OkAsync();
        await ops.GetJsonAsync($"/api/v1/webhooks/{id}").ProblemAsync(404, "webhook_not_found");
        await ops.DeleteJsonAsync($"/api/v1/webhooks/{id}").ProblemAsync(404, "webhook_not_found");
        Assert.Empty((await ops.GetJsonAsync("/api/v1/webhooks").OkAsync())["webhooks"]!.AsArray());
    }

    [Fact]
    public async Task The_same_Idempotency_Key_answers_the_same_webhook_and_another_request_under_it_is_a_conflict()
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Wi"));
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = "hook-1" };
        var body = new { url = "https://hooks.example.com/a", events = Every, secret = Secret };
        var first = await ops.PostAsync("/api/v1/webhooks", body, key).OkAsync();
        var again = await ops.PostAsync("/api/v1/webhooks", body, key).OkAsync();
        Assert.Equal(first["webhookId"]!.GetValue<string>(), again["webhookId"]!.GetValue<string>());
        Assert.Equal(["*"], first["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        await ops.PostAsync("/api/v1/webhooks", body with { url = "https://hooks.example.com/b" }, key).ProblemAsync(409, "idempotency_conflict");
        Assert.Single((await ops.GetJsonAsync("/api/v1/webhooks").OkAsync())["webhooks"]!.AsArray());
    }

    public static TheoryData<string, int, string> BadRegistrations => new()
    {
        { """{"url":"ftp://x.example/in","events":["*"],"secret":"whsec-test-0123456789"}""", 400, "invalid_webhook" },
        { """{"url":"https://user:pw@x.example/in","events":["*"],"secret":"whsec-test-0123456789"}""", 400, "invalid_webhook" },
        { """{"events":["*"],"secret":"whsec-test-0123456789"}""", 400, "invalid_webhook" },
        { """{"url":"https://x.example/in","events":["*"],"secret":"short"}""", 400, "invalid_webhook" },
        { """{"url":"https://x.example/in","events":["position.exitted"],"secret":"whsec-test-0123456789"}""", 400, "invalid_event_types" },
        { """{"url":"https://x.example/in","events":[],"secret":"whsec-test-0123456789"}""", 400, "invalid_event_types" },
        { """{"url":"https://x.example/in","events":[""],"secret":"whsec-test-0123456789"}""", 400, "invalid_event_types" },
        { """{"url":"https://x.example/in","events":["*","bogus"],"secret":"whsec-test-0123456789"}""", 400, "invalid_event_types" },
        { """{"url":"https://x.example/in","events":"*","secret":"whsec-test-0123456789"}""", 400, "invalid_type" },
        { """{"url":"https://x.example/in","events":["*"],"secret":"whsec-test-0123456789","extra":1}""", 400, "unknown_field" },
    };

    [Theory]
    [MemberData(nameof(BadRegistrations))]
    public async Task A_bad_registration_is_refused_and_registers_nothing(string body, int status, string code)
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Wb"));
        await ops.SendAsync(HttpMethod.Post, "/api/v1/webhooks", rawBody: body).ProblemAsync(status, code);
        Assert.Empty((await ops.GetJsonAsync("/api/v1/webhooks").OkAsync())["webhooks"]!.AsArray());
    }

    [Fact]
    public async Task Ids_and_limits_that_are_not_valid_are_refused()
    {
        await gateway.Http.GetJsonAsync("/api/v1/webhooks/not-a-uuid").ProblemAsync(400, "invalid_id");
        await gateway.Http.GetJsonAsync($"/api/v1/webhooks/{Guid.NewGuid()}").ProblemAsync(404, "webhook_not_found");
        await gateway.Http.GetJsonAsync($"/api/v1/webhooks/{Guid.NewGuid()}/deliveries?limit=0").ProblemAsync(400, "invalid_query");
    }

    [Fact]
    public async Task A_receiver_that_is_down_for_a_while_gets_every_event_in_id_order_once_it_is_back()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Wd")));
        var agent = await world.AgentAsync();
        for (var i = 0; i < 3; i++) await world.AccountAsync("100", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");

        await using var receiver = new WebhookReceiver(Secret);
        receiver.Start();
        var hook = await world.Http.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = Every, secret = Secret }).OkAsync();
        var hookId = hook["webhookId"]!.GetValue<string>();
        await world.BatchOpenAsync(agent, symbol, stopLoss: 90);
        await Eventually.WaitForAsync(() => Task.FromResult(receiver.Received.Count(r => r.Type == "batch.completed")), n => n == 1, Wait, "the batch to be delivered");

        // Down: the stops fire and the agent is paused while nobody answers.
        await receiver.StopAsync();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "89");
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();
        var retrying = await Eventually.WaitForAsync(() => world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}").OkAsync(),
            v => v["retrying"] is JsonObject r && r["attempts"]!.GetValue<int>() >= 3, Wait, "a delivery retried while the receiver is down");
        var stuckOn = retrying["retrying"]!["eventId"]!.GetValue<long>();

        receiver.Start();
        await Eventually.WaitForAsync(() => Task.FromResult(receiver.Received.Count(r => r.Type == "agent.paused")), n => n == 1, Wait, "the pause to be delivered");

        // Every event of the organisation, in id order, each with its id in the header, and nothing unsigned.
        // Events may still arrive after the pause (settlements of the stops): the log read so far must have been delivered, in
        // id order, as a prefix of what the receiver got.
        await using var replay = await EventStreamClient.OpenAsync(world.Http, "/api/v1/events?lastEventId=0");
        var logged = await replay.EventsUntilAsync(e => e.Any(x => x.Event == "agent.paused"), Wait, "the organisation's log");
        var ids = await Eventually.WaitForAsync(() => Task.FromResult(receiver.DistinctIds()), r => r.Count >= logged.Count, Wait, "the log's events delivered");
        Assert.Equal(logged.Select(e => e.Id!.Value), ids.Take(logged.Count));
        Assert.Equal(ids.Order(), ids);
        Assert.Contains(stuckOn, ids);
        // The stops' exits may be logged after the pause; each is delivered once.
        var exits = await Eventually.WaitForAsync(() => Task.FromResult(receiver.Received.Count(r => r.Type == "position.exited")), n => n >= 3, Wait,
            "the three exits delivered");
        Assert.Equal(3, exits);
        Assert.All(receiver.Received, r => Assert.Equal(r.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), r.HeaderEventId));
        Assert.Equal(0, receiver.BadSignatures);
        Assert.Equal(logged.Select(e => e.Data), receiver.Received.DistinctBy(r => r.Id).Take(logged.Count).Select(r => r.RawBody));

        // The delivery log tells the story: failed attempts at the stuck event, then its delivery.
        var log = (await world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}/deliveries?limit=200").OkAsync())["deliveries"]!.AsArray()
            .Select(d => d!).Where(d => d["eventId"]!.GetValue<long>() == stuckOn).Reverse().ToList();
        Assert.True(log.Count >= 4, $"expected retries then a delivery, got {log.Count}");
        Assert.All(log.SkipLast(1), d =>
        {
            Assert.Equal("retrying", d["outcome"]!.GetValue<string>());
            Assert.Null(d["statusCode"]);
            Assert.False(string.IsNullOrEmpty(d["error"]!.GetValue<string>()));
        });
        Assert.Equal("delivered", log[^1]["outcome"]!.GetValue<string>());
        Assert.Equal(200, log[^1]["statusCode"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(1, log.Count), log.Select(d => d["attempt"]!.GetValue<int>()));
        var view = await world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}").OkAsync();
        Assert.Null(view["retrying"]);
        Assert.Equal(ids.Count, view["delivered"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_redirect_is_a_failed_attempt_and_is_never_followed()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Wr")));
        var agent = await world.AgentAsync();
        await using var elsewhere = new WebhookReceiver(Secret);
        elsewhere.Start();
        await using var receiver = new WebhookReceiver(Secret) { Answer = _ => 307, RedirectTo = elsewhere.Url };
        receiver.Start();
        var hookId = (await world.Http.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = Every, secret = Secret }).OkAsync())["webhookId"]!.GetValue<string>();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();

        var log = await Eventually.WaitForAsync(() => world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}/deliveries").OkAsync(),
            d => d["deliveries"]!.AsArray().Count >= 3, Wait, "three attempts");
        Assert.All(log["deliveries"]!.AsArray(), d =>
        {
            Assert.Equal("retrying", d!["outcome"]!.GetValue<string>());
            Assert.Equal(307, d["statusCode"]!.GetValue<int>());
        });
        Assert.Equal(0, elsewhere.Requests);
        Assert.True(receiver.Requests >= 3);
    }

    [Fact]
    public async Task A_receiver_s_own_text_in_its_answer_is_cut_before_the_delivery_log_keeps_it()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Wt")));
        var agent = await world.AgentAsync();
        await using var receiver = new WebhookReceiver(Secret) { Answer = _ => 503, ReasonPhrase = new string('x', 8_000) };
        receiver.Start();
        var hookId = (await world.Http.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = Every, secret = Secret }).OkAsync())["webhookId"]!.GetValue<string>();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();

        // 200 attempts of 8 KB each would have kept 1.6 MB in the webhook's row, rewritten on every attempt.
        var log = await Eventually.WaitForAsync(() => world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}/deliveries").OkAsync(),
            d => d["deliveries"]!.AsArray().Count >= 1, Wait, "an attempt");
        var error = log["deliveries"]![0]!["error"]!.GetValue<string>();
        Assert.StartsWith("HTTP 503 xxx", error, StringComparison.Ordinal);
        Assert.InRange(error.Length, 20, 301);
    }

    [Fact]
    public async Task Only_the_registered_types_are_delivered()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Wt")));
        var agent = await world.AgentAsync();
        await world.AccountAsync("100", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        await using var receiver = new WebhookReceiver(Secret);
        receiver.Start();
        await world.Http.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = PauseAndResume, secret = Secret }).OkAsync();
        await world.BatchOpenAsync(agent, symbol);
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/resume").OkAsync();
        await Eventually.WaitForAsync(() => Task.FromResult(receiver.Received.Count), n => n >= 2, Wait, "the pause and the resume");
        Assert.Equal(["agent.paused", "agent.resumed"], receiver.Received.Select(r => r.Type));
    }
}

/// <summary>The end of the retry window: the delivery is recorded as failed and the webhook moves on.</summary>
public sealed class WebhookGiveUpTests(GiveUpFixture gateway) : IClassFixture<GiveUpFixture>
{
    private const string Secret = "whsec-test-0123456789";
    private static readonly string[] Every = ["*"];

    [Fact]
    public async Task An_event_the_receiver_keeps_refusing_is_given_up_after_the_window_and_the_next_one_is_delivered()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("Wg")));
        var agent = await world.AgentAsync();
        await using var receiver = new WebhookReceiver(Secret) { Answer = e => e["type"]!.GetValue<string>() == "agent.paused" ? 500 : 200 };
        receiver.Start();
        var hookId = (await world.Http.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = Every, secret = Secret }).OkAsync())["webhookId"]!.GetValue<string>();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();
        await world.Http.PostAsync($"/api/v1/agents/{agent}/resume").OkAsync();

        await Eventually.WaitForAsync(() => Task.FromResult(receiver.Received.Count), n => n == 1, TimeSpan.FromSeconds(30), "the resume after the pause was given up");
        Assert.Equal("agent.resumed", Assert.Single(receiver.Received).Type);
        var log = (await world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}/deliveries").OkAsync())["deliveries"]!.AsArray().Select(d => d!).Reverse().ToList();
        var paused = log.Where(d => d["eventType"]!.GetValue<string>() == "agent.paused").ToList();
        Assert.All(paused.SkipLast(1), d => Assert.Equal("retrying", d["outcome"]!.GetValue<string>()));
        Assert.Equal("failed", paused[^1]["outcome"]!.GetValue<string>());
        Assert.Equal(500, paused[^1]["statusCode"]!.GetValue<int>());
        Assert.Contains("gave up", paused[^1]["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("delivered", log[^1]["outcome"]!.GetValue<string>());
        var view = await world.Http.GetJsonAsync($"/api/v1/webhooks/{hookId}").OkAsync();
        Assert.Equal(1, view["failed"]!.GetValue<long>());
        Assert.Equal(1, view["delivered"]!.GetValue<long>());
    }
}
