using System.Threading.RateLimiting;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Http;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Gateway.Access;

/// <summary>
/// How many unknown API keys a client address may have looked up each second (<c>AnonymousPermitsPerSecond</c>).
/// Every issued key is checked against the key directory, one grain for the whole cluster, and the rate limits run
/// after authentication, so without this a caller inventing a key per request made the directory look up every one of
/// them, as fast as it could send, and slowed every tenant's authentication. Over the limit, a request answers 429
/// without asking the directory until the second is out, unless its key is the admin's or one this gateway found in
/// the directory in the last ten minutes: keys in use behind the same address keep working. Requests in flight when
/// the limit is reached still finish their lookups, so a burst can exceed it by what was already in flight.
/// </summary>
public sealed class UnknownKeyLimit(RateLimitOptions options) : IDisposable
{
    /// <summary>How long a key found in the directory passes an address's limit (it is still looked up each time, so a revocation holds at once).</summary>
    private const long FoundForMilliseconds = 10 * 60 * 1000;

    /// <summary>Bounds the keys remembered as found: past it the memory starts again (their next lookups pass while the address is under its limit).</summary>
    private const int MaxFound = 100_000;

    /// <summary>Hashes of keys the directory found, with when (<see cref="Environment.TickCount64"/>).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _found = new(StringComparer.Ordinal);

    private readonly PartitionedRateLimiter<string> _refusals = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.AnonymousPermitsPerSecond,
            Window = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));

    /// <summary>Whether the caller's address may still have an unknown key looked up this second.</summary>
    public bool MayLookUp(HttpContext context)
    {
        using var state = _refusals.AttemptAcquire(ClientAddresses.BucketKey(context.Connection.RemoteIpAddress), 0);
        return state.IsAcquired;
    }

    /// <summary>The directory found the key whose hash is <paramref name="keyHash"/>.</summary>
    public void Found(string keyHash)
    {
        var now = Environment.TickCount64;
        // Written at most once a minute per key: every authenticated request passes here.
        if (_found.TryGetValue(keyHash, out var at) && now - at < 60_000) return;
        if (_found.Count >= MaxFound) _found.Clear();
        _found[keyHash] = now;
    }

    private bool FoundLately(string key) =>
        _found.TryGetValue(AgentDeskAuthHandler.HashKey(key), out var at) && Environment.TickCount64 - at < FoundForMilliseconds;

    /// <summary>The directory did not know the caller's key: one of its address's unknown keys this second.</summary>
    public void Refused(HttpContext context)
    {
        using var _ = _refusals.AttemptAcquire(ClientAddresses.BucketKey(context.Connection.RemoteIpAddress));
        AgentDeskMetrics.UnknownKeys.Add(1, new KeyValuePair<string, object?>("looked_up", true));
    }

    /// <summary>
    /// Answers 429 before authentication when the caller's address is over its unknown keys and sends a key that is neither
    /// the admin's nor one found lately.
    /// </summary>
    public static void Use(IApplicationBuilder app)
    {
        var limit = app.ApplicationServices.GetRequiredService<UnknownKeyLimit>();
        var auth = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>();
        app.Use((context, next) =>
        {
            if (!context.Request.Headers.TryGetValue(AgentDeskAuthHandler.ApiKeyHeader, out var keys) || keys.ToString() is not { Length: > 0 } key
                || limit.MayLookUp(context) || AgentDeskAuthHandler.IsAdminKey(key, auth.Value) || limit.FoundLately(key))
                return next(context);
            AgentDeskMetrics.UnknownKeys.Add(1, new KeyValuePair<string, object?>("looked_up", false));
            context.Response.Headers.RetryAfter = "1";
            return ApiProblems.WriteAsync(context, Errors.RateLimited, "Too many unknown API keys from this address in this second; slow down.");
        });
    }

    public void Dispose() => _refusals.Dispose();
}
