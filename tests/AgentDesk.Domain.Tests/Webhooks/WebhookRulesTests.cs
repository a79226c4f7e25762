using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Webhooks;

namespace AgentDesk.Domain.Tests.Webhooks;

public sealed class WebhookRulesTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    [Fact]
    public void The_signature_is_hex_hmac_sha256_of_timestamp_dot_body_with_the_secret()
    {
        // Computed independently: printf '1800000000.{"id":1}' | openssl dgst -sha256 -hmac 'whsec_0123456789abcdef'
        Assert.Equal("t=1800000000,v1=8a8140015d95fe6376bc06c6385673aa5d1afb8156da6af54f2b5771a93b6011",
            WebhookSignatures.Sign("whsec_0123456789abcdef", 1_800_000_000, """{"id":1}"""));
    }

    [Fact]
    public void A_receiver_accepts_the_signature_only_for_the_same_secret_body_and_a_recent_timestamp()
    {
        const string body = """{"id":7,"type":"position.exited"}""";
        var header = WebhookSignatures.Sign("secret-secret-secret", Now.ToUnixTimeSeconds(), body);
        var tolerance = TimeSpan.FromMinutes(5);
        Assert.True(WebhookSignatures.Verify("secret-secret-secret", header, body, Now.AddMinutes(4), tolerance));
        Assert.False(WebhookSignatures.Verify("another-secret-secret", header, body, Now, tolerance));
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", header, body.Replace("7", "8", StringComparison.Ordinal), Now, tolerance));
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", header, body, Now.AddMinutes(6), tolerance)); // a replay, later
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", null, body, Now, tolerance));
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", "t=abc,v1=00", body, Now, tolerance));
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", "garbage", body, Now, tolerance));
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", "t=99999999999999,v1=00", body, Now, tolerance)); // past year 9999
        Assert.False(WebhookSignatures.Verify("secret-secret-secret", header.Split(",v1=")[0] + ",v1=é", body, Now, tolerance));
    }

    [Fact]
    public void Backoff_doubles_from_the_initial_wait_up_to_the_cap_and_gives_up_after_the_window()
    {
        var schedule = new DeliverySchedule(TimeSpan.FromSeconds(5), TimeSpan.FromHours(1), TimeSpan.FromHours(24));
        Assert.Equal([5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600],
            Enumerable.Range(1, 12).Select(a => schedule.Backoff(a).TotalSeconds));
        Assert.Equal(TimeSpan.FromHours(1), schedule.Backoff(10_000)); // no overflow however long it fails
        Assert.False(schedule.GivesUp(Now, Now.AddHours(23.9)));
        Assert.True(schedule.GivesUp(Now, Now.AddHours(24)));
        // The default schedule tries about 33 times in its 24 hours.
        var attempts = 0;
        for (var t = TimeSpan.Zero; t < TimeSpan.FromHours(24); t += DeliverySchedule.Default.Backoff(++attempts)) { }
        Assert.InRange(attempts, 30, 36);
    }

    [Theory]
    [InlineData("https://hooks.example.com/agentdesk", true)]
    [InlineData("http://127.0.0.1:8080/in", true)]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("ftp://example.com/x", false)]
    [InlineData("/relative/path", false)]
    [InlineData("https://user:pass@example.com/x", false)]
    [InlineData("javascript:alert(1)", false)]
    public void A_webhook_url_is_an_absolute_http_or_https_address_without_credentials(string? url, bool valid)
    {
        var problem = WebhookRules.CheckUrl(url);
        Assert.Equal(valid, problem is null);
        if (!valid) Assert.Equal(Errors.InvalidWebhook, problem!.Code);
    }

    [Fact]
    public void Secrets_are_16_to_256_printable_characters()
    {
        Assert.NotNull(WebhookRules.CheckSecret(null));
        Assert.NotNull(WebhookRules.CheckSecret("short"));
        Assert.NotNull(WebhookRules.CheckSecret(new string('x', 257)));
        Assert.NotNull(WebhookRules.CheckSecret("sixteen-chars-ok\n"));
        Assert.Null(WebhookRules.CheckSecret("sixteen-chars-ok"));
    }

    [Fact]
    public void Event_type_filters_accept_known_types_or_everything_and_refuse_misspellings()
    {
        Assert.Null(EventTypes.ParseFilter(null).Value);
        Assert.Null(EventTypes.ParseFilter(["*"]).Value);
        Assert.Null(EventTypes.ParseFilter([" ", ""]).Value);
        var two = EventTypes.ParseFilter(["position.exited", " batch.completed "]).Value!;
        Assert.True(EventTypes.Matches(two, "position.exited"));
        Assert.False(EventTypes.Matches(two, "position.filled"));
        var wrong = EventTypes.ParseFilter(["position.exited", "position.exitted"]);
        Assert.Equal(Errors.InvalidEventTypes, wrong.Rejection!.Code);
        Assert.Contains("'position.exitted'", wrong.Rejection.Message, StringComparison.Ordinal);
    }
}
