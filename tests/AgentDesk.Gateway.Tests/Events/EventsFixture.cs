namespace AgentDesk.Gateway.Tests.Events;

/// <summary>
/// The gateway with short event timings: heartbeats every second, webhooks polling every 50 ms and retrying after 100 ms
/// up to 400 ms apart, outboxes re-sending after a second, and the platform's 20% outlier guard.
/// </summary>
public class EventsFixture : GatewayFixture
{
    protected override int MaxJumpBps => 2_000;

    protected virtual int GiveUpAfterSeconds => 3_600;

    protected override IEnumerable<string> ExtraSettings =>
    [
        "--AgentDesk:Events:HeartbeatSeconds", "1",
        "--AgentDesk:Webhooks:PollMilliseconds", "50",
        "--AgentDesk:Webhooks:InitialBackoffMilliseconds", "100",
        "--AgentDesk:Webhooks:MaxBackoffMilliseconds", "400",
        "--AgentDesk:Webhooks:TimeoutSeconds", "5",
        "--AgentDesk:Webhooks:GiveUpAfterSeconds", GiveUpAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--AgentDesk:Retries:ResendSeconds", "1",
        // The receivers run on loopback.
        "--AgentDesk:Webhooks:AllowPrivateAddresses", "true",
    ];
}

/// <summary>Webhook deliveries are given up on after one second of failures.</summary>
public sealed class GiveUpFixture : EventsFixture
{
    protected override int GiveUpAfterSeconds => 1;
}
