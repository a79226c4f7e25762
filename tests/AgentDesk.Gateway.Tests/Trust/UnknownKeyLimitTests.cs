using System.Net;
using AgentDesk.Contracts.Access;
using AgentDesk.Gateway.Access;
using AgentDesk.Testing;
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

    /// <summary>A directory whose answers the test gives, counting the lookups it is asked for.</summary>
    private sealed class HeldBackDirectory
    {
        public readonly Dictionary<string, TaskCompletionSource<ApiKeyView?>> Answers = [];
        public int Lookups;

        public Task<ApiKeyView?> LookUp(string keyHash)
        {
            Interlocked.Increment(ref Lookups);
            return Answers[keyHash].Task;
        }

        public void Answer(string keyHash, ApiKeyView? view) => Answers[keyHash].SetResult(view);

        public HeldBackDirectory Expecting(params string[] keyHashes)
        {
            foreach (var hash in keyHashes) Answers[hash] = new TaskCompletionSource<ApiKeyView?>(TaskCreationOptions.RunContinuationsAsynchronously);
            return this;
        }
    }

    [Fact]
    public async Task Requests_with_one_new_key_at_the_same_time_share_one_lookup_and_one_permit()
    {
        var directory = new HeldBackDirectory().Expecting("hash-a");
        // One new key a second for the address: the same key's later requests must not need another.
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 1, NewKeysPerSecond = 100 }, directory.LookUp);

        // Every request is admitted before the first one's lookup has even started.
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        Assert.Equal(Verdict.Limited, limit.Admit("hash-b", Client)); // another new key: over the address's one
        var first = limit.LookUpAsync("hash-a");
        var second = limit.LookUpAsync("hash-a");
        directory.Answer("hash-a", Issued);
        Assert.Same(Issued, await first);
        Assert.Same(Issued, await second);
        Assert.Equal(1, directory.Lookups);

        // Found: it passes while the address is over its limit, and is looked up again each time.
        directory.Expecting("hash-a").Answer("hash-a", Issued);
        Assert.Equal(Verdict.LookUp, limit.Admit("hash-a", Client));
        Assert.Same(Issued, await limit.LookUpAsync("hash-a"));
        Assert.Equal(2, directory.Lookups);
    }

    [Fact]
    public async Task A_refused_key_is_refused_again_without_a_lookup_even_by_a_request_that_joined_its_lookup()
    {
        var directory = new HeldBackDirectory().Expecting("unknown");
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 1, NewKeysPerSecond = 100 }, directory.LookUp);
        Assert.Equal(Verdict.LookUp, limit.Admit("unknown", Client));
        Assert.Equal(Verdict.LookUp, limit.Admit("unknown", Client)); // joins the lookup in flight
        var first = limit.LookUpAsync("unknown");
        directory.Answer("unknown", null);
        Assert.Null(await first);
        // The joined request reaches its lookup only now, after the first ended: it gets the refusal, not a lookup of its own.
        Assert.Null(await limit.LookUpAsync("unknown"));
        Assert.Equal(1, directory.Lookups);
        // From any address, with no permit spent: the address's one new key a second is gone already.
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("unknown", Client));
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("unknown", IPAddress.Parse("198.51.100.9")));
    }

    [Fact]
    public async Task A_found_key_refused_later_is_refused_before_and_no_longer_waved_through()
    {
        var directory = new HeldBackDirectory().Expecting("revoked");
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 5, NewKeysPerSecond = 100 }, directory.LookUp);
        var found = limit.LookUpAsync("revoked");
        directory.Answer("revoked", Issued);
        Assert.Same(Issued, await found);
        Assert.Equal(Verdict.LookUp, limit.Admit("revoked", Client));
        directory.Expecting("revoked");
        var revoked = limit.LookUpAsync("revoked");
        directory.Answer("revoked", null);
        Assert.Null(await revoked);
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("revoked", Client));
    }

    [Fact]
    public async Task A_refusal_is_remembered_for_a_minute_and_the_key_is_looked_up_again_after()
    {
        var clock = new SteppedClock();
        var directory = new HeldBackDirectory().Expecting("expired");
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 5, NewKeysPerSecond = 100 }, directory.LookUp, clock);
        Assert.Equal(Verdict.LookUp, limit.Admit("expired", Client));
        directory.Answer("expired", null);
        Assert.Null(await limit.LookUpAsync("expired"));

        clock.Advance(UnknownKeyLimit.RefusedFor - TimeSpan.FromSeconds(1));
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("expired", Client));
        Assert.Null(await limit.LookUpAsync("expired"));
        Assert.Equal(1, directory.Lookups);

        // A minute on (the key issued meanwhile, say): new again, so it takes a permit, and the directory is asked.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Verdict.LookUp, limit.Admit("expired", Client));
        directory.Expecting("expired").Answer("expired", Issued);
        Assert.Same(Issued, await limit.LookUpAsync("expired"));
        Assert.Equal(2, directory.Lookups);
    }

    [Fact]
    public async Task A_full_memory_drops_what_aged_out_and_starts_again_only_when_nothing_has()
    {
        var clock = new SteppedClock();
        var directory = new HeldBackDirectory().Expecting("old", "kept", "third", "fourth");
        using var limit = new UnknownKeyLimit(new RateLimitOptions { AnonymousPermitsPerSecond = 100, NewKeysPerSecond = 100 }, directory.LookUp, clock,
            remembered: 2);
        async Task RefuseAsync(string keyHash)
        {
            Assert.Equal(Verdict.LookUp, limit.Admit(keyHash, Client));
            directory.Answer(keyHash, null);
            Assert.Null(await limit.LookUpAsync(keyHash));
        }

        await RefuseAsync("old");
        clock.Advance(UnknownKeyLimit.RefusedFor);
        await RefuseAsync("kept"); // the memory is full: "old", aged out, and "kept"
        await RefuseAsync("third"); // room made by dropping "old" only
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("kept", Client));
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("third", Client));

        await RefuseAsync("fourth"); // full of keys still held: it starts again with "fourth" alone
        Assert.Equal(Verdict.RefusedBefore, limit.Admit("fourth", Client));
        Assert.Equal(Verdict.LookUp, limit.Admit("kept", Client));
    }
}
