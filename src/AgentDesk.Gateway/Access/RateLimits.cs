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

    /// <summary>Requests per second per authenticated credential, and per (agent, client address) for signed intents.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 200;

    /// <summary>Requests per second per client address for anonymous requests and requests whose credential was refused.</summary>
    [Range(1, 1_000_000)]
    public int AnonymousPermitsPerSecond { get; set; } = 20;
}

/// <summary>
/// Rate limits keyed by who the caller turned out to be, so they run after authentication: a resolved credential
/// has its own bucket; signed-intent traffic is keyed by agent and client address (an attacker's junk cannot drain
/// an agent's own bucket); anything anonymous or refused shares a small bucket per client address, so inventing a
/// new key per request buys nothing.
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
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        if (context.User.CredentialId() is { } credential) return ("credential:" + credential, options.PermitsPerSecond);
        if (context.Request.Path.StartsWithSegments("/agents") && context.GetRouteValue("agentId") is string agent)
            return ($"agent:{agent}:{address}", options.PermitsPerSecond);
        return ("address:" + address, options.AnonymousPermitsPerSecond);
    }
}
