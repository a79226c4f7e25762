using AgentDesk.Gateway.Tests.Trust;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Events;

/// <summary>With the default settings a webhook never reaches an internal address: the attempt is refused and logged.</summary>
public sealed class WebhookAddressTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    private static readonly string[] Every = ["*"];

    [Fact]
    public async Task A_webhook_on_a_loopback_address_is_refused_when_delivering_and_its_receiver_hears_nothing()
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Wa"));
        var agent = await new OrgWorld(ops).AgentAsync();
        await using var receiver = new WebhookReceiver("whsec-test-0123456789");
        receiver.Start();
        var hook = (await ops.PostAsync("/api/v1/webhooks", new { url = receiver.Url, events = Every, secret = "whsec-test-0123456789" }).OkAsync())
            ["webhookId"]!.GetValue<string>();
        await ops.PostAsync($"/api/v1/agents/{agent}/pause").OkAsync();

        var log = await Eventually.WaitForAsync(() => ops.GetJsonAsync($"/api/v1/webhooks/{hook}/deliveries").OkAsync(),
            d => d["deliveries"]!.AsArray().Count > 0, TimeSpan.FromSeconds(30), "a delivery attempt");
        var attempt = log["deliveries"]![0]!;
        Assert.Equal("retrying", attempt["outcome"]!.GetValue<string>());
        Assert.Contains("private, loopback or link-local", attempt["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, receiver.Requests);
    }
}
