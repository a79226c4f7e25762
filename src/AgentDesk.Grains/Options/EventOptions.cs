using System.ComponentModel.DataAnnotations;
using AgentDesk.Domain.Webhooks;

namespace AgentDesk.Grains.Options;

/// <summary>Events (section <c>AgentDesk:Events</c>; docs/events.md).</summary>
public sealed class EventOptions
{
    public const string Section = "AgentDesk:Events";

    /// <summary>Grains record events. Off, nothing is recorded (the log, SSE and webhooks stay silent).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How long events are kept; older ones are pruned and no longer readable.</summary>
    [Range(1, 24 * 366)]
    public int RetentionHours { get; set; } = 7 * 24;

    /// <summary>How often each silo prunes events older than the retention window.</summary>
    [Range(1, 24 * 60)]
    public int PruneIntervalMinutes { get; set; } = 60;

    /// <summary>An SSE stream with nothing to send sends a comment this often, so proxies keep it open.</summary>
    [Range(1, 25)]
    public int HeartbeatSeconds { get; set; } = 15;

    public TimeSpan Retention => TimeSpan.FromHours(RetentionHours);
    public TimeSpan PruneInterval => TimeSpan.FromMinutes(PruneIntervalMinutes);
    public TimeSpan Heartbeat => TimeSpan.FromSeconds(HeartbeatSeconds);
}

/// <summary>Webhook delivery (section <c>AgentDesk:Webhooks</c>; docs/events.md, "Retries").</summary>
public sealed class WebhookOptions
{
    public const string Section = "AgentDesk:Webhooks";

    /// <summary>How often an idle webhook looks for new events.</summary>
    [Range(10, 60_000)]
    public int PollMilliseconds { get; set; } = 1000;

    /// <summary>The wait after the first failed attempt; it doubles with each further failure.</summary>
    [Range(10, 3_600_000)]
    public int InitialBackoffMilliseconds { get; set; } = 5_000;

    /// <summary>The longest wait between two attempts.</summary>
    [Range(10, 86_400_000)]
    public int MaxBackoffMilliseconds { get; set; } = 3_600_000;

    /// <summary>How long one event is retried before it is recorded as failed and the webhook moves on (24 h).</summary>
    [Range(1, 7 * 86_400)]
    public int GiveUpAfterSeconds { get; set; } = 86_400;

    /// <summary>
    /// The longest a receiver may take to answer one delivery. At most 25 s: a delivery holds its webhook's turn, and a
    /// DELETE of the webhook waiting behind it must be answered within a grain call's 30 s.
    /// </summary>
    [Range(1, 25)]
    public int TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// Whether webhooks may be delivered to loopback, private and link-local addresses (off: such a delivery is refused
    /// and logged as failed). Turn it on only where every tenant is trusted, or for local development.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; }

    public DeliverySchedule Schedule => new(TimeSpan.FromMilliseconds(InitialBackoffMilliseconds),
        TimeSpan.FromMilliseconds(Math.Max(MaxBackoffMilliseconds, InitialBackoffMilliseconds)), TimeSpan.FromSeconds(GiveUpAfterSeconds));

    public TimeSpan Poll => TimeSpan.FromMilliseconds(PollMilliseconds);
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);
}
