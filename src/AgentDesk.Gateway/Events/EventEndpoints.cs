using System.Globalization;
using System.Reflection;
using System.Security.Claims;
using System.Text;
using System.Threading.RateLimiting;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using AgentDesk.Grains.Options;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Events;

/// <summary><c>GET /api/v1/events</c>: the caller's organisation's events as server-sent events (docs/events.md).</summary>
public static class EventEndpoints
{
    public static void MapEventEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/events", StreamAsync).RequireAuthorization(Policies.Operator).WithTags("Events").WithName("streamEvents")
            .WithSummary("The organisation's events as text/event-stream; ?agentId= and ?types=a,b filter; Last-Event-ID (or ?lastEventId=) resumes after that id")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound, Errors.InvalidEventTypes, Errors.InvalidCursor);

    private static async Task<Results<EventStreamResult, ProblemHttpResult>> StreamAsync(string? agentId, string[]? types, string? lastEventId,
        [FromHeader(Name = "Last-Event-ID")] string? lastEventIdHeader, ClaimsPrincipal user, IClusterClient cluster, IOptions<EventOptions> options,
        OpenEventStreams streams)
    {
        Guid? agent = null;
        var organization = user.Organization();
        if (agentId is not null)
        {
            // Another organisation's agent answers 404, as everywhere. The admin, who sees every organisation, follows the
            // agent's own organisation's log.
            var found = await AgentLookup.FindAsync(cluster, user, agentId);
            if (found.Rejection is { } missing) return ApiProblems.For(missing);
            agent = found.Agent!.Id;
            organization = found.Agent.Profile.Organization;
        }
        var filter = EventTypes.ParseFilter(types?.SelectMany(t => t.Split(',')));
        if (!filter.IsSuccess) return ApiProblems.For(filter.Rejection!);
        // A reconnecting browser sends Last-Event-ID itself; the query parameter serves clients that cannot set headers.
        long? after = null;
        if ((string.IsNullOrEmpty(lastEventIdHeader) ? lastEventId : lastEventIdHeader) is { } resume)
        {
            if (!long.TryParse(resume, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                return ApiProblems.For(Errors.InvalidCursor, $"Last-Event-ID (or lastEventId) must be an event id, a non-negative integer; got '{AgentLookup.Truncate(resume)}'.");
            after = id;
        }
        var log = cluster.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        // An id the log has not reached (a typo, or a log that was reset) would wait for ever for events that are numbered lower.
        if (after is { } resumeAfter && resumeAfter > await log.GetLastIdAsync())
            return ApiProblems.For(Errors.InvalidCursor, $"Last-Event-ID {resumeAfter} is beyond the last event of the log; resume from an id you received.");
        // A place among the credential's streams, held until the stream ends.
        if (streams.TryOpen(user.CredentialId() ?? "") is not { } place)
            return ApiProblems.For(Errors.RateLimited, $"At most {OpenEventStreams.PerCredential} event streams are open per credential at once; close one first.");
        return new EventStreamResult(log, after, agent, filter.Value, options.Value.Heartbeat, place);
    }
}

/// <summary>
/// An open event stream. It reads the log after the cursor and waits on it for more (a long poll), so catching up and
/// following live are the same loop over ids: nothing is skipped and nothing is sent twice. Comments keep an idle stream
/// open through proxies. The stream ends when the client leaves or the cluster cannot answer; the client reconnects with
/// Last-Event-ID. It also ends once its credential no longer holds (revoked, expired), checked every heartbeat.
/// </summary>
public sealed class EventStreamResult(IEventLogGrain log, long? after, Guid? agentId, IReadOnlySet<string>? types, TimeSpan heartbeat, IDisposable place)
    : IResult, IEndpointMetadataProvider
{
    public const int PageSize = 500;
    public const string ContentType = "text/event-stream";

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using (place) await StreamAsync(httpContext);
    }

    private async Task StreamAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        // A stream ends when its client leaves or the gateway stops; neither waits for the log's current long poll to return.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted,
            httpContext.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
        var aborted = ended.Token;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass each event on as it comes
        httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            var cursor = after ?? await Until(log.GetLastIdAsync(), aborted);
            await WriteAsync(response, string.Create(CultureInfo.InvariantCulture, $"retry: 3000\n: events after {cursor}\n\n"), aborted);
            var lastWrite = DateTime.UtcNow;
            var credential = httpContext.RequestServices.GetRequiredService<CredentialRecheck>();
            var lastCheck = DateTime.UtcNow;
            while (!aborted.IsCancellationRequested)
            {
                // The credential is checked again every heartbeat: a key revoked or expired while the stream is open ends it
                // (the client's reconnect then answers 401), rather than leaving it the organisation's events for days.
                if (DateTime.UtcNow - lastCheck >= heartbeat)
                {
                    if (!await credential.StillHoldsAsync(httpContext)) return;
                    lastCheck = DateTime.UtcNow;
                }
                var page = await Until(log.WaitAsync(cursor, PageSize, heartbeat, aborted), aborted);
                var text = new StringBuilder();
                foreach (var e in page.Events)
                {
                    if ((agentId is null || e.AgentId == agentId) && EventTypes.Matches(types, e.Type))
                        text.Append(CultureInfo.InvariantCulture, $"id: {e.Id}\nevent: {e.Type}\ndata: {EventJson.Envelope(e)}\n\n");
                }
                cursor = Math.Max(cursor, page.Through);
                if (text.Length == 0 && DateTime.UtcNow - lastWrite >= heartbeat) text.Append(": heartbeat\n\n");
                if (text.Length == 0) continue;
                await WriteAsync(response, text.ToString(), aborted);
                lastWrite = DateTime.UtcNow;
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client left, or the gateway is stopping: the client reconnects with Last-Event-ID.
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e))
        {
            // The log cannot answer now: end the stream; the client reconnects and resumes from its Last-Event-ID.
        }
    }

    /// <summary>The call's answer, unless <paramref name="cancellationToken"/> ends the wait first (the late answer is then ignored).</summary>
    private static Task<T> Until<T>(Task<T> call, CancellationToken cancellationToken)
    {
        _ = call.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        return call.WaitAsync(cancellationToken);
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [ContentType]));
}

/// <summary>
/// Event streams open per credential on this gateway. Each holds a long poll on its organisation's log and may replay a
/// week of it from the database, so one key cannot open thousands; a client needs a few (one per filter). A concurrency
/// limiter per credential (no queue): a stream holds its lease until it ends.
/// </summary>
public sealed class OpenEventStreams : IDisposable
{
    public const int PerCredential = 20;

    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(credential =>
        RateLimitPartition.GetConcurrencyLimiter(credential, _ => new ConcurrencyLimiterOptions { PermitLimit = PerCredential, QueueLimit = 0 }));

    /// <summary>A place among the credential's streams, or null when it holds <see cref="PerCredential"/> already.</summary>
    public RateLimitLease? TryOpen(string credential)
    {
        var lease = _limiter.AttemptAcquire(credential);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        return null;
    }

    public void Dispose() => _limiter.Dispose();
}
