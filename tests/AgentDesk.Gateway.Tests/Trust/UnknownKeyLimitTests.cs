using System.Net;
using AgentDesk.Contracts.Access;
using AgentDesk.Gateway.Access;
using Verdict = AgentDesk.Gateway.Access.UnknownKeyLimit.Verdict;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>
/// How <see cref="UnknownKeyLimit"/> sorts keys, with the directory's answer held back by the test, so that requests can
/// be made to meet while a lookup is out (over HTTP the lookup is usually done before the next request arrives).
/// </summary>
public sealed class UnknownKeyLimitTests
{
    private static readonly IPAddress Client = IPAddress.Parse("203.0.113.70");
    private static readonly ApiKeyView Issued = new("key-1", "OrgA", ApiKeyRoles.Operator, DateTimeOffset.UnixEpoch, null, null);

    [Fact]
    public async Task Requests_with_one_new_key_at_the_same_time_share_one_lookup_and_one_permit()
    {
        // One new key a second for the address: a second request with the same key must not need another.
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 1, NewKeysPerSecond = 100 });
        var answer = new TaskCompletionSource<ApiKeyView?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lookups = 0;
        Task<ApiKeyView?> LookUp(string hash)
        {
            Interlocked.Increment(ref lookups);
            return answer.Task;
        }

        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        var first = limit.LookUpAsync("hash-a", LookUp);
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        var second = limit.LookUpAsync("hash-a", LookUp);
        // Another new key from the same address is over its one a second.
        Assert.Equal(Verdict.Limited, limit.Admit("hash-b", Client));

        answer.SetResult(Issued);
        Assert.Same(Issued, await first);
        Assert.Same(Issued, await second);
        Assert.Equal(1, lookups);
        // Found: it passes while the address is over its limit, and is looked up again each time.
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        Assert.Same(Issued, await limit.LookUpAsync("hash-a", _ => Task.FromResult<ApiKeyView?>(Issued)));
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
    }

    [Fact]
    public async Task A_refused_key_is_refused_again_without_a_permit_and_a_found_key_refused_later_is_no_longer_found()
    {
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 1, NewKeysPerSecond = 100 });
        Assert.Equal(Verdict.LookUp, limit.Admit("unknown", Client));
        Assert.Null(await limit.LookUpAsync("unknown", _ => Task.FromResult<ApiKeyView?>(null)));
        // The address has spent its one new key; the refused key needs none.
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("unknown", Client));
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("unknown", IPAddress.Parse("198.51.100.9")));

        // A key found, then revoked: the next lookup refuses it, and from then on it is refused before, not waved through.
        using var other = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 5, NewKeysPerSecond = 100 });
        Assert.Same(Issued, await other.LookUpAsync("revoked", _ => Task.FromResult<ApiKeyView?>(Issued)));
        Assert.Equal(Verdict.LookUp, other.Admit("revoked", Client));
        Assert.Null(await other.LookUpAsync("revoked", _ => Task.FromResult<ApiKeyView?>(null)));
        Assert.Equal(Verdict.RefusedBefore, other.Admit("revoked", Client));
    }
}
