using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Grains.Options;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// A signed intent whose position acted while the agent's activation died before answering: the agent recovers that intent,
/// and another intent signed for the same nonce never takes its place.
/// </summary>
[Collection(FaultyClusterCollection.Name)]
public sealed class IntentCrashTests(FaultyClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly Eip712Domain Domain = new IntentDomainOptions().ToDomain();

    [Fact]
    public async Task After_the_position_opened_and_the_answer_was_lost_another_intent_signed_for_that_nonce_is_refused_and_the_books_count_the_open()
    {
        var (key, signer) = TestData.NewKey();
        var agent = await _world.AgentAsync(signer: signer);
        var vault = await _world.VaultAsync();
        Assert.True((await _world.Agent(agent).BindVaultAsync(vault.VaultId, 10_000m)).IsSuccess);
        await _world.PriceAsync(100m);
        var token = vault.Tokens.Single();
        IntentRequest Signed(IntentKind kind, long nonce, decimal usdc)
        {
            var request = new IntentRequest(kind, _world.Symbol, usdc, 0, 0, 0, 100,
                kind == IntentKind.OpenPosition ? [new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)] : [],
                DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), nonce, "");
            return request with { Signature = NethereumIntentSignatures.Sign(Domain, IntentStructs.Build(request, agent, vault.Address, token).Unwrap(), key) };
        }
        // The position opens, and its answer never reaches the agent (the agent's call fails, and its activation is dropped).
        FaultPlan.ForPosition(_world.Organization, vault.Address, agent, _world.Symbol).PositionAnswersToLose = 1;
        await Assert.ThrowsAnyAsync<Exception>(() => _world.Agent(agent).ExecuteIntentAsync(Signed(IntentKind.OpenPosition, 0, 400m)));

        // The client quotes again and signs something else for nonce 0: the open it sent first is what nonce 0 did.
        var other = await _world.Agent(agent).ExecuteIntentAsync(Signed(IntentKind.AddToPosition, 0, 900m));
        Assert.Equal(Errors.NonceMismatch, other.Problem?.Code);
        var quote = (await _world.Agent(agent).QuoteAsync(new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, ""))).Value!;
        Assert.Equal(1, quote.Nonce);
        Assert.Equal(400m, quote.Headroom.DeployedUsdc); // what the position holds, counted once
        var position = await _world.Grains.GetGrain<Contracts.Positions.IPositionGrain>(GrainKeys.Position(agent, vault.Address, _world.Symbol)).GetAsync();
        Assert.Equal(400m, position!.MarginUsdc);
    }
}
