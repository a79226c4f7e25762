using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Webhooks;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Webhooks;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AgentDesk.Gateway.Webhooks;

/// <summary><c>POST /api/v1/webhooks</c>: where to POST which events, and the secret they are signed with (never shown again).</summary>
public sealed record WebhookBody([property: Required] string? Url, [property: Required] IReadOnlyList<string>? Events, [property: Required] string? Secret);

public sealed record WebhookList(IReadOnlyList<WebhookView> Webhooks);

public sealed record DeliveryLog(Guid WebhookId, IReadOnlyList<DeliveryAttempt> Deliveries);

/// <summary>Webhooks of the caller's organisation (docs/events.md, "Webhooks"). Another organisation's webhook answers 404.</summary>
public static class WebhookEndpoints
{
    public const int DefaultDeliveries = 50;

    public static void MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        var webhooks = app.MapGroup("/api/v1/webhooks").RequireAuthorization(Policies.Operator).WithTags("Webhooks");
        webhooks.MapPost("", CreateAsync).WithName("createWebhook")
            .WithSummary("Register a webhook: events are POSTed to url in id order, signed with secret. Send Idempotency-Key to make retries safe.")
            .ProducesErrors(Errors.InvalidWebhook, Errors.InvalidEventTypes, Errors.InvalidId, Errors.IdempotencyConflict);
        webhooks.MapGet("", ListAsync).WithName("listWebhooks").WithSummary("The organisation's webhooks");
        webhooks.MapGet("/{webhookId}", GetAsync).WithName("getWebhook").WithSummary("A webhook and where its delivery stands")
            .ProducesErrors(Errors.InvalidId, Errors.WebhookNotFound);
        webhooks.MapDelete("/{webhookId}", DeleteAsync).WithName("deleteWebhook").WithSummary("Stop delivering and delete the webhook")
            .ProducesErrors(Errors.InvalidId, Errors.WebhookNotFound);
        webhooks.MapGet("/{webhookId}/deliveries", DeliveriesAsync).WithName("listWebhookDeliveries")
            .WithSummary("The delivery log, newest first: every attempt with its outcome, status code and error; ?limit= (at most 200)")
            .ProducesErrors(Errors.InvalidId, Errors.WebhookNotFound, Errors.InvalidQuery);
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> CreateAsync(WebhookBody body,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (WebhookRules.CheckUrl(body.Url) is { } badUrl) return ApiProblems.For(badUrl);
        if (body.Events is null || body.Events.Count == 0 || body.Events.Any(string.IsNullOrWhiteSpace))
            return ApiProblems.For(Errors.InvalidEventTypes, $"events is required: a list of event types ({string.Join(", ", EventTypes.All)}) or [\"*\"].");
        var types = EventTypes.ParseFilter(body.Events);
        if (!types.IsSuccess) return ApiProblems.For(types.Rejection!);
        if (WebhookRules.CheckSecret(body.Secret) is { } badSecret) return ApiProblems.For(badSecret);
        var organization = user.Organization();
        if (WebhookIdFor(organization, idempotencyKey) is not { } webhookId)
            return ApiProblems.For(Errors.InvalidId, $"Idempotency-Key is 1 to {ClientIds.MaxLength} printable characters.");

        var directory = cluster.GetGrain<IWebhookDirectoryGrain>(GrainKeys.WebhookDirectory(organization));
        if (!await directory.AddAsync(webhookId))
            return ApiProblems.For(Errors.InvalidWebhook, $"An organisation has at most {IWebhookDirectoryGrain.MaxWebhooks} webhooks; delete one first.");
        var registration = new WebhookRegistration(body.Url!, types.Value?.Order(StringComparer.Ordinal).ToArray(), body.Secret!);
        var created = await cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, webhookId)).CreateAsync(registration);
        // Listed again once it exists: another registration at the limit forgets entries with no webhook behind them yet.
        if (created.IsSuccess) await directory.AddAsync(webhookId);
        // A refused registration (an idempotency conflict) lists nothing new; an existing webhook stays listed.
        if (!created.IsSuccess && await cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, webhookId)).GetAsync() is null)
            await directory.RemoveAsync(webhookId);
        return ApiResults.Of(created);
    }

    private static async Task<Ok<WebhookList>> ListAsync(ClaimsPrincipal user, IClusterClient cluster)
    {
        var organization = user.Organization();
        var ids = await cluster.GetGrain<IWebhookDirectoryGrain>(GrainKeys.WebhookDirectory(organization)).ListAsync();
        var views = await Task.WhenAll(ids.Select(id => cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, id)).GetAsync()));
        return TypedResults.Ok(new WebhookList(views.OfType<WebhookView>().ToList()));
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> GetAsync(string webhookId, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(webhookId, out var id)) return InvalidId(webhookId);
        return await cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(user.Organization(), id)).GetAsync() is { } view
            ? TypedResults.Ok(view)
            : NotFound(id);
    }

    private static async Task<Results<Ok<WebhookView>, ProblemHttpResult>> DeleteAsync(string webhookId, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(webhookId, out var id)) return InvalidId(webhookId);
        var organization = user.Organization();
        var deleted = await cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, id)).DeleteAsync();
        if (deleted.IsSuccess) await cluster.GetGrain<IWebhookDirectoryGrain>(GrainKeys.WebhookDirectory(organization)).RemoveAsync(id);
        return ApiResults.Of(deleted);
    }

    private static async Task<Results<Ok<DeliveryLog>, ProblemHttpResult>> DeliveriesAsync(string webhookId, string? limit, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(webhookId, out var id)) return InvalidId(webhookId);
        var count = DefaultDeliveries;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > 200))
            return ApiProblems.For(Errors.InvalidQuery, "limit must be a whole number from 1 to 200.");
        return await cluster.GetGrain<IWebhookGrain>(GrainKeys.Webhook(user.Organization(), id)).GetDeliveriesAsync(count) is { } attempts
            ? TypedResults.Ok(new DeliveryLog(id, attempts))
            : NotFound(id);
    }

    /// <summary>The same Idempotency-Key in the same organisation always names the same webhook; without one each request is a new webhook.</summary>
    private static Guid? WebhookIdFor(string organization, string? idempotencyKey)
    {
        if (idempotencyKey is null) return Guid.NewGuid();
        if (!ClientIds.IsValid(idempotencyKey)) return null;
        return new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"webhook|{organization}|{idempotencyKey}")).AsSpan(0, 16));
    }

    private static ProblemHttpResult InvalidId(string webhookId) =>
        ApiProblems.For(Errors.InvalidId, $"webhookId must be a UUID; got '{AgentLookup.Truncate(webhookId)}'.");

    private static ProblemHttpResult NotFound(Guid id) => ApiProblems.For(Errors.WebhookNotFound, $"Webhook {id} does not exist.");
}
