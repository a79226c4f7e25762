using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Http;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Gateway.Access;

/// <summary>
/// Keeps callers guessing API keys away from the key directory (docs/security.md, "Unknown keys"). Every issued key is
/// checked against the directory, one grain for the whole cluster, and the rate limits run after authentication, so
/// without this a caller inventing a key per request had every one looked up, as fast as it could send, and slowed
/// every tenant's authentication. Before authentication, a key is sorted by what this gateway has seen of it:
/// <list type="bullet">
/// <item>found in the directory in the last ten minutes: it goes on to its lookup (each time, so a revocation holds at once);</item>
/// <item>refused by the directory before (unknown, expired or revoked; none becomes valid later): refused again without a lookup;</item>
/// <item>new: its address may have <c>AnonymousPermitsPerSecond</c> new keys looked up a second, the permit taken before
/// the lookup, so lookups in flight count; past that it answers 429 without a lookup until the second is out.</item>
/// </list>
/// The admin key and keys longer than any issued key never reach the directory, and pass untouched.
/// </summary>
public sealed class UnknownKeyLimit(RateLimitOptions options) : IDisposable
{
    /// <summary>The key's hash, worked out here once for the authentication handler's lookup.</summary>
    public const string HashItem = "agentdesk.api-key-hash";

    /// <summary>Set when the key was refused before: the handler refuses it without a lookup.</summary>
    public const string RefusedBeforeItem = "agentdesk.api-key-refused-before";

    /// <summary>How long a key found in the directory counts as in use.</summary>
    private const long FoundForMilliseconds = 10 * 60 * 1000;

    /// <summary>Bounds each memory: past it, it starts again (a found key then counts as new once; a refused one is looked up once more).</summary>
    private const int MaxRemembered = 100_000;

    /// <summary>Hashes of keys the directory found, with when (<see cref="Environment.TickCount64"/>).</summary>
    private readonly ConcurrentDictionary<string, long> _found = new(StringComparer.Ordinal);

    /// <summary>Hashes of keys the directory refused.</summary>
    private readonly ConcurrentDictionary<string, byte> _refused = new(StringComparer.Ordinal);

    private readonly PartitionedRateLimiter<string> _newKeys = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.AnonymousPermitsPerSecond,
            Window = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
        }));

    /// <summary>The directory found the key whose hash is <paramref name="keyHash"/>.</summary>
    public void Found(string keyHash)
    {
        var now = Environment.TickCount64;
        // Written at most once a minute per key: every request with an issued key passes here.
        if (_found.TryGetValue(keyHash, out var at) && now - at < 60_000) return;
        if (_found.Count >= MaxRemembered) _found.Clear();
        _found[keyHash] = now;
    }

    /// <summary>The directory refused the key whose hash is <paramref name="keyHash"/>: it is never looked up again.</summary>
    public void Refused(string keyHash)
    {
        _found.TryRemove(keyHash, out _);
        if (_refused.Count >= MaxRemembered) _refused.Clear();
        _refused.TryAdd(keyHash, 0);
        Count("looked_up");
    }

    /// <summary>Sorts each request's key before authentication (the class summary says how).</summary>
    public static void Use(IApplicationBuilder app)
    {
        var limit = app.ApplicationServices.GetRequiredService<UnknownKeyLimit>();
        var auth = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<AuthOptions>>();
        app.Use((context, next) =>
        {
            if (!context.Request.Headers.TryGetValue(AgentDeskAuthHandler.ApiKeyHeader, out var keys) || keys.ToString() is not { Length: > 0 } key
                || key.Length > AgentDeskAuthHandler.MaxKeyLength || AgentDeskAuthHandler.IsAdminKey(key, auth.Value))
                return next(context);
            var hash = AgentDeskAuthHandler.HashKey(key);
            context.Items[HashItem] = hash;
            switch (limit.Sort(hash, context.Connection.RemoteIpAddress))
            {
                case Verdict.RefusedBefore:
                    context.Items[RefusedBeforeItem] = true;
                    return next(context);
                case Verdict.Limited:
                    context.Response.Headers.RetryAfter = "1";
                    return ApiProblems.WriteAsync(context, Errors.RateLimited, "Too many new API keys from this address in this second; slow down.");
                default:
                    return next(context);
            }
        });
    }

    private enum Verdict { LookUp, RefusedBefore, Limited }

    private Verdict Sort(string keyHash, System.Net.IPAddress? client)
    {
        if (_found.TryGetValue(keyHash, out var at) && Environment.TickCount64 - at < FoundForMilliseconds) return Verdict.LookUp;
        if (_refused.ContainsKey(keyHash))
        {
            Count("refused_before");
            return Verdict.RefusedBefore;
        }
        using var lease = _newKeys.AttemptAcquire(ClientAddresses.BucketKey(client));
        if (lease.IsAcquired) return Verdict.LookUp;
        Count("limited");
        return Verdict.Limited;
    }

    private static void Count(string outcome) => AgentDeskMetrics.UnknownKeys.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => _newKeys.Dispose();
}
