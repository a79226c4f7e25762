using System.Collections.Concurrent;
using System.Net;
using System.Threading.RateLimiting;
using AgentDesk.Contracts.Access;
using AgentDesk.Contracts.Common;
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
/// <param name="options">The limits.</param>
/// <param name="lookUp">Asks the key directory about a key hash: what it is, or null for a key it does not know.</param>
/// <param name="clock">What the memories age by; the system's clock when null. (The one-second windows are the rate limiter's own.)</param>
/// <param name="remembered">How many keys each memory holds at most.</param>
public sealed class UnknownKeyLimit(RateLimitOptions options, Func<string, Task<ApiKeyView?>> lookUp, TimeProvider? clock = null,
    int remembered = UnknownKeyLimit.MaxRemembered) : IDisposable
{
    /// <summary>The limit in front of the cluster's key directory, for the gateway's services.</summary>
    public static UnknownKeyLimit ForDirectory(RateLimitOptions options, IServiceProvider services)
    {
        var cluster = services.GetRequiredService<IClusterClient>();
        var clock = services.GetRequiredService<TimeProvider>();
        return new UnknownKeyLimit(options, keyHash => cluster.GetGrain<IApiKeyDirectoryGrain>(GrainKeys.ApiKeyDirectory).AuthenticateAsync(keyHash, clock.GetUtcNow()),
            clock);
    }

    /// <summary>The key's hash, worked out here once for the authentication handler's lookup.</summary>
    public const string HashItem = "agentdesk.api-key-hash";

    /// <summary>How long a key found in the directory counts as in use: it is looked up each time anyway, so this only decides which keys skip the new-key limits.</summary>
    public static readonly TimeSpan FoundFor = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a refused key is refused without a lookup. Short, because a directory that reads as empty for a while (a
    /// silo pointed at the wrong database, say) refuses every key, and each must be looked up again once it is back.
    /// </summary>
    public static readonly TimeSpan RefusedFor = TimeSpan.FromMinutes(1);

    /// <summary>Bounds each memory: when full, what it no longer holds is dropped, and if nothing is, it starts again (a found key then counts as new once; a refused one is looked up once more).</summary>
    public const int MaxRemembered = 100_000;

    private readonly Memory _found = new(FoundFor, clock ?? TimeProvider.System, remembered);
    private readonly Memory _refused = new(RefusedFor, clock ?? TimeProvider.System, remembered);

    /// <summary>
    /// Lookups in flight, by key hash, from when the request that makes one is admitted until it has its answer: requests
    /// with the same key meanwhile wait for that one, with no permit of their own.
    /// </summary>
    private readonly ConcurrentDictionary<string, Lazy<Task<ApiKeyView?>>> _lookups = new(StringComparer.Ordinal);

    private readonly PartitionedRateLimiter<string> _newKeysPerAddress = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => PerSecond(options.AnonymousPermitsPerSecond)));

    private readonly FixedWindowRateLimiter _newKeys = new(PerSecond(options.NewKeysPerSecond));

    /// <summary>
    /// What the directory says of the key whose hash is <paramref name="keyHash"/>: the lookup in flight for it if there
    /// is one, else a new one; null without a lookup if it refused the key a moment ago. The answer is remembered.
    /// </summary>
    public Task<ApiKeyView?> LookUpAsync(string keyHash) =>
        _refused.Holds(keyHash) ? Task.FromResult<ApiKeyView?>(null) : _lookups.GetOrAdd(keyHash, NewLookup).Value;

    /// <summary>A lookup not yet started, which leaves <see cref="_lookups"/> when it has its answer.</summary>
    private Lazy<Task<ApiKeyView?>> NewLookup(string keyHash)
    {
        Lazy<Task<ApiKeyView?>>? lookup = null;
        lookup = new Lazy<Task<ApiKeyView?>>(() => LookUpAndRememberAsync(keyHash, lookup!));
        return lookup;
    }

    private async Task<ApiKeyView?> LookUpAndRememberAsync(string keyHash, Lazy<Task<ApiKeyView?>> lookup)
    {
        try
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
        finally
        {
            // Only this lookup: a later one for the same key may have taken its place.
            _lookups.TryRemove(new KeyValuePair<string, Lazy<Task<ApiKeyView?>>>(keyHash, lookup));
        }
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
            // A key refused before goes on too: its lookup answers the refusal without asking the directory (LookUpAsync).
            if (limit.Admit(hash, context.Connection.RemoteIpAddress) != Verdict.Limited) return next(context);
            context.Response.Headers.RetryAfter = "1";
            return ApiProblems.WriteAsync(context, Errors.RateLimited, "Too many new API keys in this second; slow down.");
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
        // Refused first: a request that joined a lookup which then refused the key must not start another (LookUpAsync).
        if (_refused.Holds(keyHash))
        {
            Count("refused_before");
            return Verdict.RefusedBefore;
        }
        // In flight before found: a lookup records what it found before it leaves the in-flight set, so no moment falls between.
        if (_lookups.ContainsKey(keyHash) || _found.Holds(keyHash)) return Verdict.LookUp;
        using (var perAddress = _newKeysPerAddress.AttemptAcquire(ClientAddresses.BucketKey(client)))
        {
            if (perAddress.IsAcquired)
            {
                using var inAll = _newKeys.AttemptAcquire();
                if (inAll.IsAcquired)
                {
                    // In flight from now: the same key's next requests join this lookup instead of taking permits.
                    var lookup = _lookups.GetOrAdd(keyHash, NewLookup);
                    // A lookup that refused the key may have ended since the first check; this one would never start.
                    if (!_refused.Holds(keyHash)) return Verdict.LookUp;
                    _lookups.TryRemove(new KeyValuePair<string, Lazy<Task<ApiKeyView?>>>(keyHash, lookup));
                    Count("refused_before");
                    return Verdict.RefusedBefore;
                }
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

    /// <summary>Key hashes with when each was last remembered (the clock's timestamp), each held for <paramref name="heldFor"/>.</summary>
    private sealed class Memory(TimeSpan heldFor, TimeProvider clock, int capacity)
    {
        private readonly long _heldFor = Ticks(heldFor, clock);

        /// <summary>How often a key still held is written again: every request with an issued key passes here.</summary>
        private readonly long _refreshEvery = Ticks(TimeSpan.FromMinutes(1), clock);

        private readonly ConcurrentDictionary<string, long> _at = new(StringComparer.Ordinal);

        /// <summary>Kept here: a dictionary's own count takes every one of its locks, on a path a guessing caller drives.</summary>
        private int _count;

        /// <summary>1 while a thread makes room: one scan at a time.</summary>
        private int _makingRoom;

        public bool Holds(string keyHash) => _at.TryGetValue(keyHash, out var at) && clock.GetTimestamp() - at < _heldFor;

        public void Remember(string keyHash)
        {
            var now = clock.GetTimestamp();
            if (_at.TryGetValue(keyHash, out var at))
            {
                if (now - at >= _refreshEvery) _at.TryUpdate(keyHash, now, at);
                return;
            }
            if (Volatile.Read(ref _count) >= capacity) MakeRoom(now);
            if (_at.TryAdd(keyHash, now)) Interlocked.Increment(ref _count);
        }

        public void Forget(string keyHash)
        {
            if (_at.TryRemove(keyHash, out _)) Interlocked.Decrement(ref _count);
        }

        /// <summary>Drops what is no longer held; if everything still is, starts again. The count is approximate under races.</summary>
        private void MakeRoom(long now)
        {
            if (Interlocked.CompareExchange(ref _makingRoom, 1, 0) != 0) return;
            try
            {
                foreach (var entry in _at)
                    // Only the entry as read: another thread may have just refreshed it.
                    if (now - entry.Value >= _heldFor && _at.TryRemove(entry)) Interlocked.Decrement(ref _count);
                if (Volatile.Read(ref _count) < capacity) return;
                _at.Clear();
                Interlocked.Exchange(ref _count, 0);
            }
            finally
            {
                Volatile.Write(ref _makingRoom, 0);
            }
        }

        private static long Ticks(TimeSpan span, TimeProvider clock) => (long)(span.TotalSeconds * clock.TimestampFrequency);
    }
}
