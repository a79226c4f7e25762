using System.Globalization;
using System.Text.Json.Nodes;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Intents;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Grains.Agents;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using static AgentDesk.Cluster.Tests.Persistence.StorageJson;

namespace AgentDesk.Cluster.Tests;

/// <summary>Signed intents straight to the agent grain: ordering under concurrency, refusals that change nothing, retries.</summary>
[Collection(ClusterCollection.Name)]
public sealed class IntentTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);
    private static readonly Eip712Domain Domain = new IntentDomainOptions().ToDomain();
    private static readonly ExitRule[] StopLoss = [new(ExitTriggerType.StopLoss, -500, 10_000)];

    private sealed record Agent(Guid Id, string Key, VaultToken Token, string VaultAddress);

    /// <summary>An agent with a signer, bound to a vault with an allocation of 10,000 on the Evaluation track, and a price.</summary>
    private async Task<Agent> AgentAsync()
    {
        var (key, signer) = TestData.NewKey();
        var agent = await _world.AgentAsync(signer: signer);
        var vault = await _world.VaultAsync();
        Assert.True((await _world.Agent(agent).BindVaultAsync(vault.VaultId, 10_000m)).IsSuccess); // Evaluation: 1,000 per trade, 5,000 a day
        await _world.PriceAsync(100m);
        return new Agent(agent, key, vault.Tokens.Single(), vault.Address);
    }

    private IntentRequest Signed(Agent agent, IntentKind kind, long nonce, decimal usdc = 100m, decimal tokens = 0m, long? deadline = null, string? symbol = null,
        IReadOnlyList<ExitRule>? exits = null, string? signWith = null)
    {
        var request = new IntentRequest(kind, symbol ?? _world.Symbol, usdc, 0, tokens, 0, 100, exits ?? (kind == IntentKind.OpenPosition ? StopLoss : []),
            deadline ?? DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), nonce, "");
        var intent = IntentStructs.Build(request, agent.Id, agent.VaultAddress, agent.Token).Unwrap();
        return request with { Signature = NethereumIntentSignatures.Sign(Domain, intent, signWith ?? agent.Key) };
    }

    [Fact]
    public async Task Hundred_parallel_intents_get_strictly_sequential_nonces_and_never_exceed_the_track()
    {
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        Assert.True((await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, usdc: 400m))).IsSuccess);

        // 100 clients, each reading the current nonce, signing its own add of about 400 and submitting until accepted or
        // refused by a limit. (Each amount differs, so no two clients ever send the same signed intent, which would be one intent.)
        var accepted = new System.Collections.Concurrent.ConcurrentBag<long>();
        var refusedByLimit = 0;
        await Task.WhenAll(Enumerable.Range(0, 100).Select(client => Task.Run(async () =>
        {
            for (var attempt = 0; attempt < 500; attempt++)
            {
                var nonce = (await grain.GetProfileAsync())!.Nonce;
                var result = await grain.ExecuteIntentAsync(Signed(agent, IntentKind.AddToPosition, nonce, usdc: 400m + client * 0.001m));
                if (result.IsSuccess)
                {
                    accepted.Add(result.Value!.Nonce);
                    return;
                }
                if (result.Problem!.Code == Errors.TrackDailyTurnoverExceeded)
                {
                    Interlocked.Increment(ref refusedByLimit);
                    return;
                }
                Assert.Equal(Errors.NonceMismatch, result.Problem.Code); // lost the race: read the nonce again
            }
            Assert.Fail("a client never got an answer other than nonce_mismatch");
        })));

        // The open of 400 plus 11 adds of ~400 stay within 5,000; a 12th add would exceed the day's turnover.
        Assert.Equal(11, accepted.Count);
        Assert.Equal(Enumerable.Range(1, 11).Select(i => (long)i), accepted.Order());
        Assert.Equal(89, refusedByLimit);
        var quote = (await grain.QuoteAsync(new IntentRequest(IntentKind.AddToPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, ""))).Value!;
        Assert.Equal(12, quote.Nonce);
        Assert.InRange(quote.Headroom.DeployedUsdc, 4_800m, 4_801.1m);
        Assert.Equal(5_000m - quote.Headroom.DeployedUsdc, quote.Headroom.DailyTurnoverHeadroomUsdc);
    }

    [Fact]
    public async Task Rejected_intents_change_nothing_and_a_retried_accepted_intent_answers_the_same()
    {
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        var (otherKey, _) = TestData.NewKey();
        var past = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds();

        Assert.Equal(Errors.InvalidSignature, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, signWith: otherKey))).Problem!.Code);
        Assert.Equal(Errors.InvalidSignature, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0) with { UsdcAmount = 101m })).Problem!.Code);
        Assert.Equal(Errors.NonceMismatch, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 1))).Problem!.Code);
        Assert.Equal(Errors.DeadlineExpired, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, deadline: past))).Problem!.Code);
        Assert.Equal(Errors.TrackTradeSizeExceeded, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, usdc: 1_001m))).Problem!.Code);
        Assert.Equal(Errors.SymbolNotAllowed, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0) with { Symbol = "TSLA" })).Problem!.Code);
        // A ladder that cannot be valid is refused before anything is hashed or verified.
        var broken = new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 100m, 0, 0, 0, 100, [new ExitRule(ExitTriggerType.StopLoss, -500, 70_000)],
            DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), 0, "0x00");
        Assert.Equal(Errors.InvalidExitBps, (await grain.ExecuteIntentAsync(broken)).Problem!.Code);
        Assert.Equal(0, (await grain.GetProfileAsync())!.Nonce);

        var open = Signed(agent, IntentKind.OpenPosition, 0);
        var first = await grain.ExecuteIntentAsync(open);
        Assert.True(first.IsSuccess, first.Problem?.Message);
        // The same signed intent again is a retry: the first answer, nothing traded twice.
        var retry = await grain.ExecuteIntentAsync(open);
        Assert.Equal(first.Value!.Position.PositionId, retry.Value!.Position.PositionId);
        Assert.Equal(first.Value.Position.Transaction, retry.Value.Position.Transaction);
        Assert.Equal(1, (await grain.GetProfileAsync())!.Nonce);
        // Another intent with a spent nonce is a replay.
        Assert.Equal(Errors.NonceMismatch, (await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, usdc: 99m))).Problem!.Code);
    }

    [Fact]
    public async Task A_retried_intent_answers_as_the_first_time_while_fewer_than_16_newer_followed_and_never_acts_twice()
    {
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        var open = Signed(agent, IntentKind.OpenPosition, 0);
        Assert.True((await grain.ExecuteIntentAsync(open)).IsSuccess);
        var adds = Enumerable.Range(1, 16).Select(nonce => Signed(agent, IntentKind.AddToPosition, nonce, usdc: 10m)).ToList();
        var answers = new List<Contracts.Intents.IntentExecution>();
        foreach (var add in adds) answers.Add((await grain.ExecuteIntentAsync(add)).Value!);
        var position = _world.Grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent.Id, agent.VaultAddress, _world.Symbol));
        var size = (await position.GetAsync())!.Size;

        // The first add has 15 newer intents after it: sent again, it answers what it answered then.
        var retried = await grain.ExecuteIntentAsync(adds[0]);
        Assert.True(retried.IsSuccess, retried.Problem?.Message);
        Assert.Equal(answers[0].Position.Transaction, retried.Value!.Position.Transaction);
        Assert.Equal(answers[0].Position.Size, retried.Value.Position.Size);
        // The open has 16: it is no longer remembered, so it is a replay of a spent nonce.
        Assert.Equal(Errors.NonceMismatch, (await grain.ExecuteIntentAsync(open)).Problem!.Code);
        // Neither traded again.
        Assert.Equal(size, (await position.GetAsync())!.Size);
        Assert.Equal(17, (await grain.GetProfileAsync())!.Nonce);
    }

    [Fact]
    public async Task An_account_at_the_agents_vault_address_never_follows_the_agent_whichever_comes_first()
    {
        // The vault's positions and a subscriber's are named by agent, address and symbol: they would be one position.
        var agent = await AgentAsync();
        await _world.Account(agent.VaultAddress).CreateAsync();
        Assert.Equal(Errors.AccountIsVault, (await _world.Agent(agent.Id).SubscribeAsync(agent.VaultAddress)).Problem!.Code);

        var other = await _world.AgentAsync();
        var follower = await _world.AccountAsync(0m, other);
        var vaultId = "v-" + Guid.NewGuid().ToString("N")[..8];
        Assert.True((await _world.Vault(vaultId).CreateAsync(follower, "At the follower", _world.Organization, 100m, adminSignature: null)).IsSuccess);
        Assert.Equal(Errors.AccountIsVault, (await _world.Agent(other).BindVaultAsync(vaultId, 10m)).Problem!.Code);
        Assert.Null((await _world.Agent(other).GetProfileAsync())!.VaultId);
    }

    [Fact]
    public async Task A_venue_refusal_after_admission_spends_the_nonce_but_deploys_nothing()
    {
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        // The paper venue slips 5 bps: a 1 bps bound is refused by the venue, after the checks passed.
        var tight = Signed(agent, IntentKind.OpenPosition, 0) with { MaxSlippageBps = 1 };
        var intent = IntentStructs.Build(tight, agent.Id, agent.VaultAddress, agent.Token).Unwrap();
        tight = tight with { Signature = NethereumIntentSignatures.Sign(Domain, intent, agent.Key) };
        var refused = await grain.ExecuteIntentAsync(tight);
        Assert.Equal(Errors.SlippageExceeded, refused.Problem!.Code);

        var quote = (await grain.QuoteAsync(new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, ""))).Value!;
        Assert.Equal(1, quote.Nonce);                       // spent, whatever the venue did
        Assert.Equal(0m, quote.Headroom.DeployedUsdc);      // but nothing was deployed…
        Assert.Equal(5_000m, quote.Headroom.DailyTurnoverHeadroomUsdc); // …or counted
        Assert.Null(await _world.Grains.GetGrain<Contracts.Positions.IPositionGrain>(GrainKeys.Position(agent.Id, agent.VaultAddress, _world.Symbol)).GetAsync());

        // 100 USDC at 100 buys about one token: asking for at least two is refused by the venue, and that spends nonce 1.
        var greedy = Signed(agent, IntentKind.OpenPosition, 1) with { MinTokenOut = 2m };
        var greedyIntent = IntentStructs.Build(greedy, agent.Id, agent.VaultAddress, agent.Token).Unwrap();
        greedy = greedy with { Signature = NethereumIntentSignatures.Sign(Domain, greedyIntent, agent.Key) };
        Assert.Equal(Errors.MinOutNotMet, (await grain.ExecuteIntentAsync(greedy)).Problem!.Code);
        quote = (await grain.QuoteAsync(new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, ""))).Value!;
        Assert.Equal(2, quote.Nonce);
        Assert.Equal(0m, quote.Headroom.DeployedUsdc);
    }

    [Fact]
    public async Task An_intent_the_position_carried_out_before_the_agent_recorded_it_is_answered_on_retry_not_refused()
    {
        // The crash window: the position opened for nonce 0, then the agent's activation died before storing anything.
        // Reproduced by opening the position with the agent's command id directly, as the lost activation did.
        var agent = await AgentAsync();
        var open = Signed(agent, IntentKind.OpenPosition, 0);
        var position = _world.Grains.GetGrain<Contracts.Positions.IPositionGrain>(GrainKeys.Position(agent.Id, agent.VaultAddress, _world.Symbol));
        var opened = await position.OpenAsync(new Contracts.Positions.OpenPositionCommand("intent:0", null, _world.Organization, null, Side.Long, 100m, [], 1m, 100m,
            agent.Token.Decimals, agent.Token.Address, 0, 0, 0, 0, StopLoss, 0m, 100, new IntentAuthorization(agent.Id, open, agent.VaultAddress, agent.Token)));
        Assert.True(opened.IsSuccess);

        // The client's retry of the same signed intent gets the position that was opened, and the nonce is spent once.
        var retried = await _world.Agent(agent.Id).ExecuteIntentAsync(open);
        Assert.True(retried.IsSuccess, retried.Problem?.Message);
        Assert.Equal(opened.Value!.PositionId, retried.Value!.Position.PositionId);
        var quote = (await _world.Agent(agent.Id).QuoteAsync(new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, ""))).Value!;
        Assert.Equal(1, quote.Nonce);
        Assert.Equal(100m, quote.Headroom.DeployedUsdc);
    }

    [Fact]
    public async Task Once_todays_realised_losses_reach_the_tracks_limit_new_trades_are_refused_and_exits_still_settle()
    {
        // Evaluation on 10,000 USDC: at most 300 USDC of realised loss a day.
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        var wideStop = new ExitRule[] { new(ExitTriggerType.StopLoss, -1_000, 10_000) };
        Assert.True((await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 0, usdc: 1_000m, exits: wideStop))).IsSuccess);

        // The price gaps from 100 to 69: the stop (at 90) sells everything at 69, a loss of about 310 USDC.
        await _world.PriceAsync(69m);
        var position = _world.Grains.GetGrain<Contracts.Positions.IPositionGrain>(GrainKeys.Position(agent.Id, agent.VaultAddress, _world.Symbol));
        var closed = await Eventually.WaitForAsync(() => position.GetAsync(), p => p?.Status == Contracts.Positions.PositionStatus.Closed,
            TimeSpan.FromSeconds(30), "the stop to close the position");
        Assert.True(closed!.RealizedPnlUsdc < -300m, $"realised {closed.RealizedPnlUsdc}");
        var empty = new IntentRequest(IntentKind.OpenPosition, _world.Symbol, 0, 0, 0, 0, 0, [], 0, 0, "");
        var settled = await Eventually.WaitForAsync(() => grain.QuoteAsync(empty), q => q.Value!.Headroom.DeployedUsdc == 0m,
            TimeSpan.FromSeconds(30), "the exit to settle with the agent");
        Assert.Equal(0m, settled.Value!.Headroom.DailyLossHeadroomUsdc);

        // Any new trade today is refused with the limit named, and the refusal spends no nonce.
        await _world.PriceAsync(100m);
        var refused = await grain.ExecuteIntentAsync(Signed(agent, IntentKind.OpenPosition, 1, usdc: 10m));
        Assert.Equal(Errors.TrackDailyLossReached, refused.Problem!.Code);
        Assert.Equal("maxDailyLossBps", refused.Problem.Details!["limit"]!.ToString());
        Assert.Equal(1, (await grain.QuoteAsync(empty)).Value!.Nonce);
    }

    [Fact]
    public async Task Intents_answered_before_the_receipts_answer_their_retries_as_they_did_and_are_stored_as_receipts_at_the_next_write()
    {
        var agent = await AgentAsync();
        var grain = _world.Agent(agent.Id);
        var position = _world.Grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent.Id, agent.VaultAddress, _world.Symbol));
        var intents = new List<IntentRequest> { Signed(agent, IntentKind.OpenPosition, 0), Signed(agent, IntentKind.AddToPosition, 1, usdc: 50m) };
        var answers = new List<IntentExecution>();
        var snapshots = new List<PositionSnapshot>();
        async Task CarryOutAsync(IntentRequest intent)
        {
            var executed = await grain.ExecuteIntentAsync(intent);
            Assert.True(executed.IsSuccess, executed.Problem?.Message);
            answers.Add(executed.Value!);
            snapshots.Add((await position.GetAsync())!);
        }
        foreach (var intent in intents) await CarryOutAsync(intent);
        await _world.PriceAsync(110m);
        intents.Add(Signed(agent, IntentKind.ReducePosition, 2, usdc: 0m, tokens: 0.5m));
        intents.Add(Signed(agent, IntentKind.UpdateExitLadder, 3, usdc: 0m, exits: [new(ExitTriggerType.StopLoss, -800, 10_000)]));
        foreach (var intent in intents.Skip(2)) await CarryOutAsync(intent);
        Assert.NotNull(answers[2].Position.HistoricalSwapId);
        Assert.NotEqual(0m, answers[2].Position.RealizedPnlUsdc);

        // Both rows as a version before the receipts stored them: each answer whole, under the memories' older names, made
        // as that version made them (the transaction the position's last, a reduce's its sale's, with the sale's P/L).
        await fixture.Cluster.DeactivateAsync(grain);
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(grain);
        await fixture.Cluster.WaitForDeactivationAsync(position);
        var sale = snapshots[2].Exits[^1];
        var older = snapshots.Select((snapshot, nonce) => nonce == 2
            ? new OlderIntentExecution(nonce, snapshot, sale.Transaction, sale.RealizedPnlUsdc)
            : new OlderIntentExecution(nonce, snapshot, snapshot.LastTransaction ?? snapshot.OpenTransaction, 0m)).ToArray();
        await RewriteAsync(StorageNames.Agent, grain.GetGrainId(), row =>
        {
            Assert.True(row.Remove("answeredIntents"));
            row["intents"] = Remembered(older.Select((e, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                new OlderHandledIntent(intents[i].Signature, Result<OlderIntentExecution>.Ok(e)))).ToArray());
            // The names that version wrote its answers with.
            Assert.Equal(["nonce", "position", "transaction", "realizedPnlUsdc"],
                row["intents"]!["entries"]!["2"]!["result"]!["value"]!.AsObject().Select(p => p.Key));
        });
        await RewriteAsync(StorageNames.Position, position.GetGrainId(), row =>
        {
            foreach (var memory in IntentMemories) Assert.True(row.Remove(memory), memory);
            row["opens"] = Remembered(("intent:0", snapshots[0]));
            row["changes"] = Remembered(("intent:1", snapshots[1]), ("intent:3", snapshots[3]));
            row["reductions"] = Remembered(("intent:2", new CloseOutcome(false, null, snapshots[2], sale.RealizedPnlUsdc, sale.Price, sale.Transaction,
                sale.HistoricalSwapId)));
        });

        // Each intent sent again answers what it answered, and nothing trades.
        for (var i = 0; i < intents.Count; i++) AssertSameAnswer(answers[i], (await grain.ExecuteIntentAsync(intents[i])).Value!);
        Assert.Equal(4, (await grain.GetProfileAsync())!.Nonce);
        // The position, asked again by the agent's command ids (as an agent whose answer was lost asks), answers the same.
        var noExits = Array.Empty<ExitRule>();
        var authorization = new IntentAuthorization(agent.Id, intents[0], agent.VaultAddress, agent.Token);
        AssertSameAnswer(answers[0], new(0, (await position.OpenAsync(new OpenPositionCommand(IntentCommandIds.For(0), null, _world.Organization, null,
            Side.Long, 1m, [], 1m, 100m, agent.Token.Decimals, agent.Token.Address, 0, 0, 0, 0, StopLoss, 0m, 100, authorization))).Value!));
        AssertSameAnswer(answers[1], new(1,
            (await position.AddAsync(new AddToPositionCommand(IntentCommandIds.For(1), 1m, 100m, 0m, 100, authorization))).Value!));
        AssertSameAnswer(answers[2], new(2,
            (await position.ReduceAsync(new ReducePositionCommand(IntentCommandIds.For(2), 0.1m, 100m, 0m, 100, authorization))).Value!));
        AssertSameAnswer(answers[3], new(3,
            (await position.UpdateExitsAsync(new UpdateExitsCommand(IntentCommandIds.For(3), noExits, authorization))).Value!));
        var now = (await position.GetAsync())!;
        Assert.Equal((snapshots[3].Size, snapshots[3].Exits.Count, snapshots[3].UpdatedAt), (now.Size, now.Exits.Count, now.UpdatedAt));

        // The next intent stores both rows as receipts, under the new names only.
        await CarryOutAsync(Signed(agent, IntentKind.AddToPosition, 4, usdc: 10m));
        var agentRow = await RowAsync(StorageNames.Agent, grain.GetGrainId());
        Assert.False(agentRow.ContainsKey("intents"));
        Assert.Equal(["0", "1", "2", "3", "4"], Keys(agentRow, "answeredIntents"));
        Assert.False(agentRow["answeredIntents"]!["entries"]!["0"]!["result"]!["value"]!["position"]!.AsObject().ContainsKey("exits"));
        var positionRow = await RowAsync(StorageNames.Position, position.GetGrainId());
        foreach (var memory in OlderIntentMemories) Assert.False(positionRow.ContainsKey(memory), memory);
        Assert.Equal(["intent:0"], Keys(positionRow, "intentOpens"));
        Assert.Equal(["intent:1", "intent:3", "intent:4"], Keys(positionRow, "intentChanges"));
        Assert.Equal(["intent:2"], Keys(positionRow, "intentReductions"));
    }

    /// <summary>A position's memories of intents' answers: as receipts, and as older versions stored them whole.</summary>
    private static readonly string[] IntentMemories = ["intentOpens", "intentChanges", "intentReductions"];
    private static readonly string[] OlderIntentMemories = ["opens", "changes", "reductions"];

    /// <summary>The same answer, field by field, decimals to their written form (what the HTTP answer shows).</summary>
    private static void AssertSameAnswer(IntentExecution expected, IntentExecution actual)
    {
        Assert.Equal(expected.Nonce, actual.Nonce);
        Assert.Equal(expected.Position with { PendingExits = [] }, actual.Position with { PendingExits = [] });
        Assert.Equal(expected.Position.PendingExits, actual.Position.PendingExits);
        Assert.Equal((expected.Position.Size.ToString(CultureInfo.InvariantCulture), expected.Position.EntryPrice.ToString(CultureInfo.InvariantCulture),
                expected.Position.RealizedPnlUsdc.ToString(CultureInfo.InvariantCulture)),
            (actual.Position.Size.ToString(CultureInfo.InvariantCulture), actual.Position.EntryPrice.ToString(CultureInfo.InvariantCulture),
                actual.Position.RealizedPnlUsdc.ToString(CultureInfo.InvariantCulture)));
    }

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);

    private async Task<JsonObject> RowAsync(string stateName, GrainId grain)
    {
        var row = new GrainState<JsonObject>();
        await Storage.ReadStateAsync(stateName, grain, row);
        return row.State!;
    }

    private async Task RewriteAsync(string stateName, GrainId grain, Action<JsonObject> change)
    {
        var row = new GrainState<JsonObject>();
        await Storage.ReadStateAsync(stateName, grain, row);
        change(row.State!);
        await Storage.WriteStateAsync(stateName, grain, row);
    }
}
