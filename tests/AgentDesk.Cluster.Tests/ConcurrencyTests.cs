using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Tests.Intents;
using AgentDesk.Grains.Intents;

namespace AgentDesk.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ConcurrencyTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    [Fact]
    public async Task Hundred_parallel_intents_get_strictly_sequential_nonces_and_never_exceed_the_track()
    {
        var (key, signer) = IntentSamples.NewKey();
        var agent = await _world.AgentAsync(signer: signer);
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        var vault = (await _world.Vault(vaultId).CreateAsync(Scenario.NewAddress(), "V", "Org")).Value!;
        var token = (await _world.Vault(vaultId).SetTokenAsync("NVDA", Scenario.NewAddress(), 18)).Value!.Tokens.Single();
        await _world.Agent(agent).BindVaultAsync(vaultId, 10_000m); // Evaluation: 1,000 per trade, 5,000 a day
        var domain = new IntentDomainOptions().ToDomain();
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();

        // 100 clients, each quoting the current nonce, signing and submitting until accepted or refused by a limit.
        var accepted = new System.Collections.Concurrent.ConcurrentBag<long>();
        var refusedByLimit = 0;
        await Task.WhenAll(Enumerable.Range(0, 100).Select(client => Task.Run(async () =>
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var nonce = (await _world.Agent(agent).GetUsageAsync()).Nonce;
                var intent = new AddToPositionIntent(AgentIds.ToUint256(agent), vault.Address, token.Address, 400_000_000, 0, 100, deadline, nonce);
                var signature = NethereumIntentSignatures.Sign(domain, intent, key);
                var result = await _world.Agent(agent).AdmitIntentAsync(new IntentSubmission(IntentKind.AddToPosition, "NVDA", 400m, 0, 0, 0, 100, [], deadline, nonce, signature));
                if (result.IsSuccess)
                {
                    accepted.Add(result.Value!.Nonce);
                    return;
                }
                if (result.Problem!.Code == "track_daily_turnover_exceeded")
                {
                    Interlocked.Increment(ref refusedByLimit);
                    return;
                }
                Assert.Equal("nonce_mismatch", result.Problem.Code); // lost the race: quote again
            }
            Assert.Fail("a client never got an answer other than nonce_mismatch");
        })));

        var usage = await _world.Agent(agent).GetUsageAsync();
        Assert.Equal(12, accepted.Count);                              // 12 × 400 = 4,800 ≤ 5,000; a 13th would exceed it
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), accepted.Order());
        Assert.Equal(12, usage.Nonce);
        Assert.Equal(4_800m, usage.TurnoverUsdc);
        Assert.Equal(88, refusedByLimit);
    }

    [Fact]
    public async Task Rejected_intents_change_nothing()
    {
        var (key, signer) = IntentSamples.NewKey();
        var agent = await _world.AgentAsync(signer: signer);
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        var vault = (await _world.Vault(vaultId).CreateAsync(Scenario.NewAddress(), "V", "Org")).Value!;
        var token = (await _world.Vault(vaultId).SetTokenAsync("NVDA", Scenario.NewAddress(), 18)).Value!.Tokens.Single();
        await _world.Agent(agent).BindVaultAsync(vaultId, 10_000m);
        var domain = new IntentDomainOptions().ToDomain();
        var deadline = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var exits = new[] { new Contracts.Common.ExitRuleMessage("StopLoss", -500, 10_000) };
        var exitsHash = ExitsHash.Compute([new Domain.Exits.ExitRule(Domain.Exits.ExitTriggerType.StopLoss, -500, 10_000)]);
        string Sign(long nonce, long usdc, long when) => NethereumIntentSignatures.Sign(domain,
            new OpenPositionIntent(AgentIds.ToUint256(agent), vault.Address, token.Address, usdc * 1_000_000, 0, 100, exitsHash, when, nonce), key);
        IntentSubmission Submit(long nonce, decimal usdc, long when, string signature, string symbol = "NVDA") =>
            new(IntentKind.OpenPosition, symbol, usdc, 0, 0, 0, 100, exits, when, nonce, signature);

        var grain = _world.Agent(agent);
        Assert.Equal("invalid_signature", (await grain.AdmitIntentAsync(Submit(0, 101, deadline, Sign(0, 100, deadline)))).Problem!.Code);
        Assert.Equal("nonce_mismatch", (await grain.AdmitIntentAsync(Submit(1, 100, deadline, Sign(1, 100, deadline)))).Problem!.Code);
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds();
        Assert.Equal("deadline_expired", (await grain.AdmitIntentAsync(Submit(0, 100, past, Sign(0, 100, past)))).Problem!.Code);
        Assert.Equal("track_trade_size_exceeded", (await grain.AdmitIntentAsync(Submit(0, 1001, deadline, Sign(0, 1001, deadline)))).Problem!.Code);
        Assert.Equal("symbol_not_allowed", (await grain.AdmitIntentAsync(Submit(0, 100, deadline, Sign(0, 100, deadline), "TSLA"))).Problem!.Code);
        Assert.Equal(0, (await grain.GetUsageAsync()).Nonce);
        Assert.Equal(0m, (await grain.GetUsageAsync()).TurnoverUsdc);

        Assert.True((await grain.AdmitIntentAsync(Submit(0, 100, deadline, Sign(0, 100, deadline)))).IsSuccess);
        Assert.Equal("nonce_mismatch", (await grain.AdmitIntentAsync(Submit(0, 100, deadline, Sign(0, 100, deadline)))).Problem!.Code); // replay
        Assert.Equal(1, (await grain.GetUsageAsync()).Nonce);
    }
}
