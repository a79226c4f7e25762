using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace AgentDesk.Gateway.Access;

/// <summary>Section <c>AgentDesk:RateLimit</c> (docs/security.md, "Rate limits").</summary>
public sealed class RateLimitOptions
{
    public const string Section = "AgentDesk:RateLimit";

    /// <summary>Requests per second per authenticated credential, and per client address on the public agent routes (signed intents).</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>
    /// Requests per second per client address for anonymous requests and requests whose credential was refused; and API
    /// keys new to the gateway looked up per second per client address.
    /// </summary>
    [Range(1, 1_000_000)]
    public int AnonymousPermitsPerSecond { get; set; } = 20;

    /// <summary>API keys new to the gateway looked up per second, from every address together: what the key directory, one grain, is asked at most.</summary>
    [Range(1, 1_000_000)]
    public int NewKeysPerSecond { get; set; } = 1_000;
}

/// <summary>
/// Rate limits keyed by who the caller turned out to be, so they run after authentication: a resolved credential
/// has its own bucket; the public agent routes (signed intents, an agent's positions) share a bucket per client address at
/// the credential's rate, so an agent sends at that rate and another address's junk cannot drain it; anything else
/// anonymous or refused shares a small bucket per client address. Inventing a new key or a new agent id per request buys
/// nothing.
/// </summary>
public static class RateLimits
{
    public static void Add(IServiceCollection services, RateLimitOptions options) => services.AddRateLimiter(o =>
    {
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            var (partition, permits) = PartitionFor(context, options);
            return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = permits,
                Window = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
            });
        });
        o.OnRejected = (context, _) =>
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return new ValueTask(ApiProblems.WriteAsync(context.HttpContext, Errors.RateLimited, "Too many requests in this second for this caller; slow down."));
        };
    });

    private static (string Partition, int Permits) PartitionFor(HttpContext context, RateLimitOptions options)
    {
        if (context.User.CredentialId() is { } credential) return ("credential:" + credential, options.PermitsPerSecond);
        var address = ClientAddresses.BucketKey(context.Connection.RemoteIpAddress);
        // Not keyed by the agent as well: the id comes from the caller, and a bucket per id gave a caller that invented an
        // id per request a fresh bucket each time, each request an agent grain activated and its state read.
        if (context.Request.Path.StartsWithSegments("/agents") && context.GetRouteValue("agentId") is string)
            return ("agents:" + address, options.PermitsPerSecond);
        return ("address:" + address, options.AnonymousPermitsPerSecond);
    }
}
