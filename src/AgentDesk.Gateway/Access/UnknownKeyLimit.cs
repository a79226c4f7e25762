using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using AgentDesk.Contracts.Access;
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
/// <item>found in the directory in the last day, or being looked up right now: it goes on to its lookup (each time, so a
/// revocation holds at once; requests with the same key at the same time share one lookup);</item>
/// <item>refused by the directory in the last minute: refused again without a lookup;</item>
/// <item>new: its address may have <c>AnonymousPermitsPerSecond</c> new keys looked up a second, and the gateway
/// <c>NewKeysPerSecond</c> in all, the permits taken before the lookup; past either, 429 without a lookup.</item>
/// </list>
/// The admin key and keys longer than any issued key never reach the directory, and pass untouched.
/// </summary>
public sealed class UnknownKeyLimit(RateLimitOptions options) : IDisposable
{
    /// <summary>The key's hash, worked out here once for the authentication handler's lookup.</summary>
    public const string HashItem = "agentdesk.api-key-hash";

    /// <summary>Set when the key was refused lately: the handler refuses it without a lookup.</summary>
    public const string RefusedBeforeItem = "agentdesk.api-key-refused-before";

    /// <summary>How long a key found in the directory counts as in use: it is looked up each time anyway, so this only decides which keys skip the new-key limits.</summary>
    private static readonly long FoundForMilliseconds = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    /// <summary>
    /// How long a refused key is refused without a lookup. Short, because a directory that reads as empty for a while (a
    /// silo pointed at the wrong database, say) refuses every key, and each must be looked up again once it is back.
    /// </summary>
    private static readonly long RefusedForMilliseconds = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    /// <summary>Bounds each memory: past it, it starts again (a found key then counts as new once; a refused one is looked up once more).</summary>
    private const int MaxRemembered = 100_000;

    private readonly Memory _found = new();
    private readonly Memory _refused = new();

    /// <summary>Lookups in flight, by key hash: requests with the same key at the same time wait for one.</summary>
    private readonly ConcurrentDictionary<string, Lazy<Task<ApiKeyView?>>> _lookups = new(StringComparer.Ordinal);

    private readonly PartitionedRateLimiter<string> _newKeysPerAddress = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => PerSecond(options.AnonymousPermitsPerSecond)));

    private readonly FixedWindowRateLimiter _newKeys = new(PerSecond(options.NewKeysPerSecond));

    /// <summary>
    /// Looks the key up in the directory (<paramref name="lookUp"/>), sharing the lookup with any other request for the same
    /// key in flight, and remembers the answer.
    /// </summary>
    public async Task<ApiKeyView?> LookUpAsync(string keyHash, Func<string, Task<ApiKeyView?>> lookUp)
    {
        var lookup = _lookups.GetOrAdd(keyHash, hash => new Lazy<Task<ApiKeyView?>>(() => LookUpAndRememberAsync(hash, lookUp)));
        try
        {
            return await lookup.Value;
        }
        finally
        {
            // Only this lookup: a later one for the same key may have taken its place.
            _lookups.TryRemove(new KeyValuePair<string, Lazy<Task<ApiKeyView?>>>(keyHash, lookup));
        }
    }

    private async Task<ApiKeyView?> LookUpAndRememberAsync(string keyHash, Func<string, Task<ApiKeyView?>> lookUp)
    {
        var issued = await lookUp(keyHash);
        if (issued is null)
        {
            _found.Forget(keyHash);
            _refused.Remember(keyHash);
            Count("looked_up");
        }
        else
        {
            _refused.Forget(keyHash);
            _found.Remember(keyHash);
        }
        return issued;
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
            switch (limit.Admit(hash, context.Connection.RemoteIpAddress))
            {
                case Verdict.RefusedBefore:
                    context.Items[RefusedBeforeItem] = true;
                    return next(context);
                case Verdict.Limited:
                    context.Response.Headers.RetryAfter = "1";
                    return ApiProblems.WriteAsync(context, Errors.RateLimited, "Too many new API keys in this second; slow down.");
                default:
                    return next(context);
            }
        });
    }

    /// <summary>What becomes of a request with an API key, before authentication.</summary>
    public enum Verdict
    {
        /// <summary>On to the key's lookup.</summary>
        LookUp,

        /// <summary>Refused without a lookup: the directory refused the key a moment ago.</summary>
        RefusedBefore,

        /// <summary>429 without a lookup: a new key over its address's or the gateway's limit.</summary>
        Limited,
    }

    /// <summary>Sorts a request's key, whose hash is <paramref name="keyHash"/>, sent from <paramref name="client"/> (the class summary says how).</summary>
    public Verdict Admit(string keyHash, IPAddress? client)
    {
        if (_found.Holds(keyHash, FoundForMilliseconds) || _lookups.ContainsKey(keyHash)) return Verdict.LookUp;
        if (_refused.Holds(keyHash, RefusedForMilliseconds))
        {
            Count("refused_before");
            return Verdict.RefusedBefore;
        }
        using (var perAddress = _newKeysPerAddress.AttemptAcquire(ClientAddresses.BucketKey(client)))
        {
            if (perAddress.IsAcquired)
            {
                using var inAll = _newKeys.AttemptAcquire();
                if (inAll.IsAcquired) return Verdict.LookUp;
            }
        }
        Count("limited");
        return Verdict.Limited;
    }

    private static FixedWindowRateLimiterOptions PerSecond(int permits) => new() { PermitLimit = permits, Window = TimeSpan.FromSeconds(1), QueueLimit = 0 };

    private static void Count(string outcome) => AgentDeskMetrics.UnknownKeys.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose()
    {
        _newKeysPerAddress.Dispose();
        _newKeys.Dispose();
    }

    /// <summary>Key hashes with when each was last remembered (<see cref="Environment.TickCount64"/>), at most <see cref="MaxRemembered"/>.</summary>
    private sealed class Memory
    {
        private readonly ConcurrentDictionary<string, long> _at = new(StringComparer.Ordinal);

        /// <summary>Counted here: a dictionary's own count takes every one of its locks, on a path a guessing caller drives.</summary>
        private int _count;

        public bool Holds(string keyHash, long forMilliseconds) =>
            _at.TryGetValue(keyHash, out var at) && Environment.TickCount64 - at < forMilliseconds;

        public void Remember(string keyHash)
        {
            var now = Environment.TickCount64;
            // Written at most once a minute per key: every request with an issued key passes here.
            if (_at.TryGetValue(keyHash, out var at) && now - at < 60_000) return;
            if (Interlocked.Increment(ref _count) > MaxRemembered)
            {
                _at.Clear();
                Interlocked.Exchange(ref _count, 1);
            }
            _at[keyHash] = now;
        }

        public void Forget(string keyHash) => _at.TryRemove(keyHash, out _);
    }
}
