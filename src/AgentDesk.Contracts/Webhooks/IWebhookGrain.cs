using AgentDesk.Contracts.Common;
using Orleans.Concurrency;

namespace AgentDesk.Contracts.Webhooks;

/// <summary>
/// One webhook (key <c>webhook:{organisation}:{id}</c>, <see cref="GrainKeys.Webhook"/>): where to POST which events, and the
/// delivery that walks the organisation's event log in id order with a durable cursor. A failed delivery is retried with
/// capped exponential backoff until its retry window ends, then recorded as failed and passed; every attempt is logged.
/// </summary>
[Alias("agentdesk.webhook")]
public interface IWebhookGrain : IGrainWithStringKey
{
    /// <summary>Registers the webhook; the same registration again answers the same webhook, another one is a conflict.</summary>
    [Alias("create")]
    Task<Result<WebhookView>> CreateAsync(WebhookRegistration registration);

    /// <summary>The webhook, or null when it does not exist (never created, or deleted).</summary>
    [AlwaysInterleave, Alias("get")]
    Task<WebhookView?> GetAsync();

    /// <summary>Stops delivery and forgets the secret; the webhook then no longer exists.</summary>
    [Alias("delete")]
    Task<Result<WebhookView>> DeleteAsync();

    /// <summary>The latest delivery attempts, newest first; null when the webhook does not exist.</summary>
    [AlwaysInterleave, Alias("deliveries")]
    Task<IReadOnlyList<DeliveryAttempt>?> GetDeliveriesAsync(int limit);
}

/// <summary>What <c>POST /api/v1/webhooks</c> registers. <see cref="Types"/> null means every type.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.webhook-registration")]
public sealed record WebhookRegistration(
    [property: Id(0)] string Url,
    [property: Id(1)] IReadOnlyList<string>? Types,
    [property: Id(2)] string Secret);

/// <summary>A webhook as the API shows it: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.webhook-view")]
public sealed record WebhookView(
    [property: Id(0)] Guid WebhookId,
    [property: Id(1)] string Url,
    [property: Id(2)] IReadOnlyList<string> Events,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] long DeliveredThrough,
    [property: Id(5)] long Delivered,
    [property: Id(6)] long Failed,
    [property: Id(7)] PendingDelivery? Retrying);

/// <summary>The event a webhook is retrying: how often it failed, since when, and when it tries next.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.pending-delivery")]
public sealed record PendingDelivery(
    [property: Id(0)] long EventId,
    [property: Id(1)] int Attempts,
    [property: Id(2)] DateTimeOffset FirstAttemptAt,
    [property: Id(3)] DateTimeOffset NextAttemptAt,
    [property: Id(4)] DateTimeOffset GiveUpAt);

/// <summary>
/// One delivery attempt. <see cref="Outcome"/>: <c>delivered</c> (a 2xx answer), <c>retrying</c> (failed, tried again later)
/// or <c>failed</c> (failed at the end of the retry window: the webhook moved on).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.delivery-attempt")]
public sealed record DeliveryAttempt(
    [property: Id(0)] long EventId,
    [property: Id(1)] string EventType,
    [property: Id(2)] int Attempt,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] string Outcome,
    [property: Id(5)] int? StatusCode,
    [property: Id(6)] string? Error,
    [property: Id(7)] double DurationMs);

/// <summary>The webhooks of one organisation (key <c>webhooks:{organisation}</c>), for listing and the per-organisation cap.</summary>
[Alias("agentdesk.webhook-directory")]
public interface IWebhookDirectoryGrain : IGrainWithStringKey
{
    public const int MaxWebhooks = 50;

    /// <summary>
    /// Lists a webhook (again: a no-op); false (and nothing listed) when the organisation already has <see cref="MaxWebhooks"/>
    /// webhooks. Listed ids with no webhook behind them (a registration cut off part-way) do not count.
    /// </summary>
    [Alias("add")]
    Task<bool> AddAsync(Guid webhookId);

    [Alias("remove")]
    Task RemoveAsync(Guid webhookId);

    [Alias("list")]
    Task<IReadOnlyList<Guid>> ListAsync();
}
