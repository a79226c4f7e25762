using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Intents;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Idempotency;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Prices;
using AgentDesk.Domain.Tracks;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.History;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using AgentDesk.Venues;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Text.Json.Serialization;

namespace AgentDesk.Grains.Agents;

public sealed class AgentState
{
    public bool Registered { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string? ImageUrl { get; set; }
    public AgentType AgentType { get; set; }
    public bool IsPublic { get; set; }
    public List<AgentFee> Fees { get; set; } = [];
    public string Organization { get; set; } = "";
    public string? SignerAddress { get; set; }
    public string? OwnerId { get; set; }
    public string? Manager { get; set; }
    public string QuorumId { get; set; } = "";
    public string Track { get; set; } = Tracks.DefaultName;
    public string? VaultId { get; set; }
    public decimal AllocationUsdc { get; set; }

    /// <summary>Vaults the agent moved away from whose allocation is still to be released (a release that failed is tried again).</summary>
    public List<string> LeftVaults { get; set; } = [];
    public bool Paused { get; set; }
    public DateTimeOffset RegisteredAt { get; set; }

    /// <summary>Next nonce, USDC deployed in open vault positions, today's counters.</summary>
    public IntentLedger? Ledger { get; set; }

    /// <summary>Symbols the agent has traded with intents: its vault positions live at pos:{agent}:{vault}:{symbol}.</summary>
    public SortedSet<string> IntentSymbols { get; set; } = [];

    /// <summary>Intents already carried out, by nonce: the same signed intent again answers the first result.</summary>
    public HandledCommands<HandledIntent> AnsweredIntents { get; set; } = new();

    /// <summary>
    /// A row stored before the intents' receipts kept each answer with the whole position here. Read, moved into
    /// <see cref="AnsweredIntents"/> on activation (<see cref="MoveOlderIntents"/>), never written.
    /// </summary>
    [JsonPropertyName("intents"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HandledCommands<OlderHandledIntent>? OlderIntents { get; set; }

    /// <summary>An admitted intent whose outcome is not stored yet (stored first when the venue leaves the cluster).</summary>
    public IntentAuthorization? InFlight { get; set; }

    /// <summary>Vault-position settlements already applied.</summary>
    public HandledCommands<bool> Settlements { get; set; } = new();

    /// <summary>How many accounts each subscriber page holds; pages fill in order, so only the last has room.</summary>
    public List<int> PageSizes { get; set; } = [];

    /// <summary>The agent is in its organisation's agent directory (agents registered before the directory are listed on activation).</summary>
    public bool Listed { get; set; }

    /// <summary>How often the kill switch moved: names each pause and resume event.</summary>
    public int PauseChanges { get; set; }

    /// <summary>Events (intents, pauses, vault settlements) the organisation's log has not confirmed yet.</summary>
    public List<EventDraft> Events { get; set; } = [];

    /// <summary>The agent's most recently completed batches by symbol, oldest first (see <see cref="AgentGrain.BatchCompletedAsync"/>).</summary>
    public Dictionary<string, List<Guid>> CompletedBatches { get; set; } = [];

    /// <summary>
    /// Moves the answers an older row kept with whole positions into <see cref="AnsweredIntents"/>, as receipts, in their order.
    /// Idempotent; the row shrinks at the agent's next write.
    /// </summary>
    public void MoveOlderIntents(int capacity)
    {
        if (OlderIntents is null) return;
        foreach (var (nonce, handled) in OlderIntents.Entries)
        {
            // An entry that is no answer is left out: sent again, its intent is refused as a spent nonce and never acts twice.
            var answer = handled?.Result switch
            {
                { Value: { Position: { } position } executed } => Result<IntentExecution>.Ok(new IntentExecution(executed.Nonce,
                    IntentReceipt.Of(position, executed.Transaction, executed.RealizedPnlUsdc))),
                { Problem: { } problem } => Result<IntentExecution>.Fail(problem),
                _ => null,
            };
            if (answer is not null) AnsweredIntents.Remember(nonce, new HandledIntent(handled!.Signature, answer), capacity);
        }
        OlderIntents = null;
    }
}

/// <summary>A handled intent: the signature it carried and what it answered.</summary>
public sealed record HandledIntent(string Signature, Result<IntentExecution> Result);

/// <summary>A handled intent as rows stored before the intents' receipts kept it, with the whole position (read only).</summary>
public sealed record OlderHandledIntent(string Signature, Result<OlderIntentExecution> Result);

/// <summary>What an executed intent answered before the intents' receipts (read only).</summary>
public sealed record OlderIntentExecution(long Nonce, PositionSnapshot Position, TransactionRef? Transaction, decimal RealizedPnlUsdc);

/// <summary>
/// One agent. Thin: registration rules, intent admission and the intent ledger are domain functions
/// (<see cref="AgentRegistrationRules"/>, <see cref="IntentAdmission"/>, <see cref="IntentLedger"/>); this grain
/// loads the vault and the price, applies them, and carries an admitted intent out on the vault position.
/// </summary>
[GrainType("agent")]
public sealed class AgentGrain(
    [PersistentState(StorageNames.Agent, StorageNames.Provider)] IPersistentState<AgentState> state,
    IOptions<IntentDomainOptions> intentDomain,
    IOptions<RiskOptions> risk,
    IOptions<PriceOptions> prices,
    IOptions<EventOptions> eventOptions,
    IOptions<RetryOptions> retries,
    IEventPublisher publisher,
    IHistoryStore history,
    TimeProvider clock,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain, IRemindable
{
    // An agent's intents run one at a time in nonce order, so a client retries one of its last few, not one that 16 newer
    // intents have followed; a forgotten one is refused by the nonce check and never acts twice. Every intent's write
    // stores them all again (about 1 KB each, with the signature), which is why the bound is not larger.
    private const int RememberedIntents = 16;
    private const int RememberedSettlements = 1024;

    // Each batch hands the agent's last completed batches on its symbol to every subscriber it reaches, which forget their
    // answers to those batches' steps. Kept per symbol, since a position is one symbol's and hears only of batches on it:
    // an agent trading many symbols would otherwise push one symbol's batches out before its positions heard of them. A
    // batch opens and another closes what it opened, so 8 cover a symbol's last four cycles, and an account that missed
    // a batch or two still hears of the ones before. What no batch reports stays to the count bounds.
    private const int RememberedCompletedBatches = 8;

    private FastIntentVerifier? _verifier;
    private EventOutbox? _events;

    private AgentState S => state.State;
    private Guid AgentId => this.GetPrimaryKey();
    private IntentLedger Ledger => S.Ledger ??= IntentLedger.Start(clock.GetUtcNow());
    private TrackPolicy Track => Tracks.Find(S.Track)!;
    private EventOutbox Events => _events ??= new EventOutbox(this, () => S.Events, e => S.Events = e, publisher, eventOptions.Value, retries.Value);

    /// <summary>Messages still outstanding are re-sent by a reminder once this activation is gone.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await Events.OnDeactivateAsync(cancellationToken);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        S.MoveOlderIntents(RememberedIntents);
        Events.Publish();
        if (S.Registered && !S.Listed) await ListAsync();
        // An intent admitted (and stored) before a crash is carried out to its end: the position reconciles with
        // the venue, so an order that already executed is recorded rather than sent again. If the venue cannot tell yet
        // (a chain that does not answer), the intent stays in flight and the next call to this agent tries again.
        if (S.InFlight is { } inFlight)
        {
            try
            {
                await CarryOutAsync(inFlight, clock.GetUtcNow());
            }
            catch (Exception e) when (ClusterFailures.IsTransient(e))
            {
                // left in flight on purpose
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Left in flight too: a failure that is not an unreachable silo must not keep the agent from activating
                // (its pause switch, its profile). Memory is read back from storage, as after any call that failed part-way.
                logger.LogWarning(e, "Agent {AgentId}: carrying out its intent in flight failed; it stays in flight", AgentId);
                await state.ReadStateAsync(cancellationToken);
            }
        }
    }

    public async Task<Result<AgentProfile>> RegisterAsync(AgentRegistration registration)
    {
        if (S.Registered)
            return Result<AgentProfile>.Fail(Errors.AgentAlreadyRegistered, $"Agent {AgentId} is already registered.");
        if (AgentRegistrationRules.Validate(registration.Name, registration.Description, registration.ImageUrl, registration.Fees,
                registration.SignerAddress, risk.Value.FeeCaps, registration.OwnerId, registration.Manager) is { } rejection)
            return rejection;

        S.Registered = true;
        S.Name = registration.Name;
        S.Description = registration.Description;
        S.ImageUrl = registration.ImageUrl;
        S.AgentType = registration.AgentType;
        S.IsPublic = registration.IsPublic;
        S.Fees = registration.Fees.Select(f => f with { FeeAddress = EthAddress.Normalize(f.FeeAddress) }).ToList();
        S.Organization = registration.Organization;
        S.SignerAddress = registration.SignerAddress is null ? null : EthAddress.Normalize(registration.SignerAddress);
        S.OwnerId = registration.OwnerId;
        S.Manager = registration.Manager;
        // The 2/2 quorum: the agent's signer plus the platform's executor key. Its id is derived, not random,
        // so a re-read of the agent always reports the same quorum.
        S.QuorumId = "q" + Convert.ToHexStringLower(Eip712Encoding.Keccak(AgentId.ToByteArray()).AsSpan(0, 12));
        S.RegisteredAt = clock.GetUtcNow();
        S.Ledger = IntentLedger.Start(S.RegisteredAt);
        // Listed before the registration is stored, so registering stays one write; a directory entry whose agent never got
        // stored is not shown (the list reads each agent's profile).
        await GrainFactory.GetGrain<IAgentDirectoryGrain>(GrainKeys.AgentDirectory(S.Organization)).AddAsync(AgentId);
        S.Listed = true;
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == EventOutbox.ReminderName) await Events.OnReminderAsync();
    }

    /// <summary>Enters an agent registered before the directory existed in it (idempotent), so GET /api/v1/agents lists it.</summary>
    private async Task ListAsync()
    {
        await GrainFactory.GetGrain<IAgentDirectoryGrain>(GrainKeys.AgentDirectory(S.Organization)).AddAsync(AgentId);
        S.Listed = true;
        await state.WriteStateAsync();
    }

    public Task<AgentProfile?> GetProfileAsync() => Task.FromResult(S.Registered ? Profile() : null);

    public async Task<Result<SubscriptionView>> SubscribeAsync(string account)
    {
        if (!S.Registered) return NotRegistered<SubscriptionView>();
        account = EthAddress.Normalize(account);
        // The account key carries the agent's own organisation: another organisation's account is not reachable.
        var subscriber = GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(S.Organization, account));
        if (await subscriber.GetAsync() is null)
            return Result<SubscriptionView>.Fail(Errors.AccountNotFound, $"Account {account} does not exist in organisation {S.Organization}; create it first.");
        // Positions are named by agent, address and symbol: an account at the agent's vault address would share the vault's
        // positions (a batch-close would sell the vault's, a signed reduce the account's).
        if (S.VaultId is { } vaultId && await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId)).GetAsync() is { } vault
            && EthAddress.AreEqual(vault.Address, account))
            return AccountIsVault<SubscriptionView>(account);

        // The account remembers its page before the page lists it, so a retry after a failure in between
        // re-adds to the same page instead of listing the account twice.
        if (await subscriber.GetSubscriptionPageAsync(AgentId) is { } existing)
        {
            await Page(existing).AddAsync(account);
            await CountPageAsync(existing);
            return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, true, S.PageSizes.Sum()));
        }

        // The slot is taken before the account hears of it, so a page never overfills; the count is set from the page at
        // the end, so a slot an attempt took before failing is not counted for good.
        var page = S.PageSizes.Count > 0 && S.PageSizes[^1] < ISubscriberPageGrain.Capacity ? S.PageSizes.Count - 1 : S.PageSizes.Count;
        if (page == S.PageSizes.Count) S.PageSizes.Add(0);
        S.PageSizes[page]++;
        await state.WriteStateAsync();
        await subscriber.AddSubscriptionAsync(AgentId, page);
        await Page(page).AddAsync(account);
        await CountPageAsync(page);
        return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, true, S.PageSizes.Sum()));
    }

    public async Task<Result<SubscriptionView>> UnsubscribeAsync(string account)
    {
        if (!S.Registered) return NotRegistered<SubscriptionView>();
        account = EthAddress.Normalize(account);
        var subscriber = GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(S.Organization, account));
        if (await subscriber.GetSubscriptionPageAsync(AgentId) is not { } number)
            return Result<SubscriptionView>.Fail(Errors.NotSubscribed, $"Account {account} does not follow agent {AgentId}.");
        // The page first, the account last (the reverse of subscribing): a failure in between leaves the account still
        // following, so the retry finds it and finishes, and no batch reaches an account that was told it stopped.
        await Page(number).RemoveAsync(account);
        if (await subscriber.RemoveSubscriptionAsync(AgentId) is null)
            return Result<SubscriptionView>.Fail(Errors.NotSubscribed, $"Account {account} does not follow agent {AgentId}.");
        // Freed slots are reused only on the last page: pages fill at the end, which keeps assignment a single counter.
        if (number < S.PageSizes.Count) await CountPageAsync(number);
        return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, false, S.PageSizes.Sum()));
    }

    /// <summary>
    /// Sets a page's count from the accounts it lists, and records the day's subscriber count. Counting rather than adding
    /// one makes a retry after a failure part-way (a slot taken, the account never listed) count what is there, once.
    /// </summary>
    private async Task CountPageAsync(int page)
    {
        var listed = (await Page(page).GetAccountsAsync()).Count;
        if (S.PageSizes[page] != listed)
        {
            S.PageSizes[page] = listed;
            await state.WriteStateAsync();
        }
        await RecordSubscribersAsync();
    }

    /// <summary>Today's subscriber count in the history read model, for the agent's track record (docs/history.md).</summary>
    private Task RecordSubscribersAsync() =>
        history.RecordSubscribersAsync(S.Organization, AgentId, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), S.PageSizes.Sum());

    public Task<int> GetSubscriberPageCountAsync() => Task.FromResult(S.PageSizes.Count);

    public async Task<Result<AgentProfile>> SetTrackAsync(string track)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        if (Tracks.Find(track) is not { } policy)
            return Result<AgentProfile>.Fail(Errors.UnknownTrack, $"Track '{track}' does not exist; use one of {string.Join(", ", Tracks.BuiltIn.Select(t => t.Name))}.");
        S.Track = policy.Name;
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task<Result<AgentProfile>> BindVaultAsync(string vaultId, decimal allocationUsdc)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        if (S.VaultId is { } bound && bound != vaultId && S.IntentSymbols.Count > 0 && Ledger.DeployedUsdc > 0)
            return Result<AgentProfile>.Fail(Errors.TokenInUse, $"Agent {AgentId} holds open positions in vault {bound}; close them before moving to another vault.");
        await ReleaseLeftVaultsAsync();
        var target = GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId));
        if (await target.GetAsync() is { } vault
            && await GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(S.Organization, vault.Address)).GetSubscriptionPageAsync(AgentId) is not null)
            return AccountIsVault<AgentProfile>(vault.Address);
        var allocated = await target.AllocateAsync(AgentId, allocationUsdc);
        if (!allocated.IsSuccess) return allocated.Problem!;
        // The vault left behind gives the allocation back, or it would stay counted against that vault's capital for good.
        // It is stored as to be released with the move, so a release that fails is done by the next binding.
        if (S.VaultId is { } left && left != vaultId && !S.LeftVaults.Contains(left)) S.LeftVaults.Add(left);
        S.VaultId = vaultId;
        S.AllocationUsdc = allocationUsdc;
        await state.WriteStateAsync();
        await ReleaseLeftVaultsAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    private async Task ReleaseLeftVaultsAsync()
    {
        if (S.LeftVaults.Count == 0) return;
        foreach (var left in S.LeftVaults.ToArray())
        {
            // A vault the agent moves back to keeps its allocation: the binding sets it again.
            if (left != S.VaultId) await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(left)).ReleaseAsync(AgentId);
            S.LeftVaults.Remove(left);
        }
        await state.WriteStateAsync();
    }

    public async Task<Result<AgentProfile>> RotateSignerAsync(SignerRotation rotation, bool byAdmin)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        if (!EthAddress.IsValid(rotation.NewSigner))
            return Result<AgentProfile>.Fail(Errors.InvalidAddress, $"signerAddress must be 0x followed by 40 hex digits; got '{rotation.NewSigner}'.");
        if (!byAdmin)
        {
            if (SignerRotations.Check(rotation, AgentId, S.SignerAddress, Ledger.Nonce, clock.GetUtcNow(), Verifier) is { } refused) return refused;
            S.Ledger = Ledger with { Nonce = Ledger.Nonce + 1 };
        }
        S.SignerAddress = EthAddress.Normalize(rotation.NewSigner);
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task<Result<AgentProfile>> SetPausedAsync(bool paused, string by)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        if (S.Paused != paused)
        {
            S.Paused = paused;
            S.PauseChanges++;
            Events.Add(EventDrafts.Create(S.Organization, $"agent:{AgentId:D}:pause:{S.PauseChanges}", paused ? EventTypes.AgentPaused : EventTypes.AgentResumed,
                AgentId, null, null, clock.GetUtcNow(), new AgentStatusEventData(paused, by)));
            await state.WriteStateAsync();
            Events.Publish();
        }
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task<Result<IntentExecution>> ExecuteIntentAsync(IntentRequest request)
    {
        if (!S.Registered) return NotRegistered<IntentExecution>();
        var nonceKey = request.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The same signed intent again (a client retry) answers what it answered the first time.
        // Signatures stored before the gateway kept one spelling of them are compared in that spelling too.
        if (S.AnsweredIntents.TryGet(nonceKey, out var handled) && CanonicalSignature.Of(handled.Signature) == CanonicalSignature.Of(request.Signature))
            return handled.Result;
        if (S.InFlight is { } inFlight && inFlight.Request.Nonce == request.Nonce
            && CanonicalSignature.Of(inFlight.Request.Signature) == CanonicalSignature.Of(request.Signature))
            return await CarryOutAsync(inFlight, clock.GetUtcNow());
        // An earlier intent whose outcome is still unknown is finished first: intents execute one at a time, in nonce order.
        if (S.InFlight is { } earlier) await CarryOutAsync(earlier, clock.GetUtcNow());

        var now = clock.GetUtcNow();
        var vault = S.VaultId is null ? null : await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(S.VaultId)).GetAsync();
        var admitted = IntentAdmission.Check(request, IntentView(), vault?.ForIntents(), now, Verifier);
        if (!admitted.IsSuccess) return await RefusedAsync(request, admitted.Rejection!, SignedByAgent(request, vault?.ForIntents(), admitted.Rejection!));
        var (problem, price) = await PrecheckAsync(request, admitted.Value!, now);
        if (problem is not null) return await RefusedAsync(request, problem, signedByAgent: true);

        var authorization = new IntentAuthorization(AgentId, request, admitted.Value!.VaultAddress, admitted.Value.Token, S.SignerAddress, now);
        S.Ledger = Ledger.Consume(request, now);
        S.IntentSymbols.Add(admitted.Value.Token.Symbol);
        S.InFlight = authorization;
        // The spent nonce, the deployed amount and the order are stored before the position is asked, on every venue: an
        // activation that dies after the position acted then recovers by carrying this same intent out (the position answers
        // what it did), never by taking another intent signed for the same nonce, and its books count what the position holds.
        await state.WriteStateAsync();
        AgentDeskMetrics.Intents.Add(1, new KeyValuePair<string, object?>("outcome", "accepted"));
        return await CarryOutAsync(authorization, now, price);
    }

    /// <summary>
    /// Carries an admitted intent out on the vault position and stores the outcome once. <paramref name="checkedPrice"/> is
    /// the price the precheck just read, if it read one; an intent carried out again after a crash reads the latest.
    /// </summary>
    private async Task<Result<IntentExecution>> CarryOutAsync(IntentAuthorization intent, DateTimeOffset now, decimal? checkedPrice = null)
    {
        var request = intent.Request;
        var symbol = intent.Token.Symbol;
        // A ladder update trades nothing, so it needs no price.
        var price = request.Kind == IntentKind.UpdateExitLadder ? 0m
            : checkedPrice ?? (await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync())?.PriceUsd ?? 0m;
        var position = GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(AgentId, intent.VaultAddress, symbol));
        // An open holds its token from before the venue is asked: a venue can take seconds (a chain), and the token's
        // address and decimals must not change in the vault meanwhile.
        var vault = GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(S.VaultId!));
        if (request.Kind == IntentKind.OpenPosition) await vault.TrackHoldingAsync(AgentId, symbol, open: true);
        // The position is idempotent on this command id: if this activation dies after the position answered,
        // the same intent sent again re-admits, gets the stored answer back, and is recorded once.
        var commandId = IntentCommandIds.For(request.Nonce);
        var executed = request.Kind switch
        {
            IntentKind.OpenPosition => Executed(request, await position.OpenAsync(new OpenPositionCommand(commandId, null, S.Organization, null, Side.Long,
                request.UsdcAmount, [], 1m, price, intent.Token.Decimals, intent.Token.Address, 0, 0, 0, 0, request.Exits,
                request.MinTokenOut, request.MaxSlippageBps, intent, S.AgentType))),
            IntentKind.AddToPosition => Executed(request, await position.AddAsync(new AddToPositionCommand(commandId, request.UsdcAmount, price,
                request.MinTokenOut, request.MaxSlippageBps, intent))),
            IntentKind.ReducePosition => Executed(request, await position.ReduceAsync(new ReducePositionCommand(commandId, request.TokenAmount, price,
                request.MinUsdcOut, request.MaxSlippageBps, intent))),
            _ => Executed(request, await position.UpdateExitsAsync(new UpdateExitsCommand(commandId, request.Exits, intent))),
        };
        // The venue refused after admission: the nonce stays spent, but nothing was deployed.
        if (!executed.IsSuccess)
        {
            S.Ledger = Ledger.Refund(request, intent.AdmittedAt ?? now);
            // Held by this open, or by its first attempt before a crash: free unless a position opened earlier still holds it.
            if (request.Kind == IntentKind.OpenPosition && (await position.GetAsync())?.Status is not (PositionStatus.Open or PositionStatus.Pending))
                await vault.TrackHoldingAsync(AgentId, symbol, open: false);
        }
        S.InFlight = null;
        S.AnsweredIntents.Remember(request.Nonce.ToString(System.Globalization.CultureInfo.InvariantCulture), new HandledIntent(request.Signature, executed),
            RememberedIntents);
        Events.Add(IntentEvent(request, executed.IsSuccess ? null : executed.Problem, stage: "venue", symbol, intent.VaultAddress, executed.Value));
        await state.WriteStateAsync();
        Events.Publish();
        return executed;
    }

    public async Task<Result<IntentQuote>> QuoteAsync(IntentRequest draft)
    {
        if (!S.Registered) return NotRegistered<IntentQuote>();
        // A quote is the first step of a trade: a paused agent is told now, not after it signed.
        if (S.Paused) return Result<IntentQuote>.Fail(Errors.AgentPaused, $"Agent {AgentId} is paused; resume it to trade.");
        if (S.VaultId is null) return Result<IntentQuote>.Fail(Errors.NoVault, "The agent is not bound to a vault.");
        var vault = await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(S.VaultId)).GetAsync();
        if (vault?.ForIntents().Token(draft.Symbol) is not { } token)
            return Result<IntentQuote>.Fail(Errors.SymbolNotAllowed, $"{draft.Symbol} is not in vault {S.VaultId}'s allowlist.");
        if (IntentAdmission.CheckDraft(draft) is { } badDraft) return badDraft;
        var now = clock.GetUtcNow();
        var filled = draft with { Nonce = Ledger.Nonce, Deadline = draft.Deadline > 0 ? draft.Deadline : now.AddMinutes(10).ToUnixTimeSeconds() };
        var signed = IntentStructs.Build(filled, AgentId, vault.Address, token);
        if (!signed.IsSuccess) return signed.Rejection!;
        var headroom = TrackLimits.Headroom(Track, S.AllocationUsdc, Ledger.DeployedUsdc, Ledger.Today(now));
        return Result<IntentQuote>.Ok(new IntentQuote(Ledger.Nonce, S.VaultId, vault.Address, token, Track.Name, headroom, Track.ExitBounds,
            TypedDataTemplate.For(intentDomain.Value.ToDomain(), signed.Value!)));
    }

    public Task<IReadOnlyList<string>> GetIntentSymbolsAsync() => Task.FromResult<IReadOnlyList<string>>(S.IntentSymbols.ToArray());

    public async Task SettleVaultPositionAsync(Settlement settlement)
    {
        if (!S.Settlements.Contains(settlement.SettlementId))
        {
            // The token is released before the settlement is remembered: were it after, a release that failed would never
            // be tried again (the settlement re-sent would be known), and the token would stay frozen in the vault. A close
            // settling late, after the next position on the symbol opened, releases nothing: that position holds the token.
            if (settlement.Closed && S.VaultId is { } vaultId && !await ReopenedSinceAsync(settlement))
                await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId))
                    .TrackHoldingAsync(AgentId, GrainKeys.ParsePosition(settlement.PositionKey).Symbol, open: false);
            S.Ledger = Ledger.Settle(settlement.ReleasedMarginUsdc, settlement.RealizedPnlUsdc, clock.GetUtcNow());
            S.Settlements.Remember(settlement.SettlementId, true, RememberedSettlements);
            var (_, vaultAddress, symbol) = GrainKeys.ParsePosition(settlement.PositionKey);
            Events.Add(EventDrafts.Create(S.Organization, $"settle:{settlement.SettlementId}", EventTypes.PositionSettled, AgentId, vaultAddress, symbol,
                clock.GetUtcNow(), new SettlementEventData(settlement.SettlementId, settlement.PositionId, "vault", settlement.ReleasedMarginUsdc,
                    settlement.PayoutUsdc, settlement.RealizedPnlUsdc, settlement.Closed, null, null, Ledger.DeployedUsdc)));
            await state.WriteStateAsync();
            Events.Publish();
        }
        await GrainFactory.GetGrain<IPositionGrain>(settlement.PositionKey).ConfirmSettlementAsync(settlement.SettlementId);
    }

    /// <summary>Whether the settled position's key holds a newer live position than the one this settlement closed.</summary>
    private async Task<bool> ReopenedSinceAsync(Settlement settlement) =>
        await GrainFactory.GetGrain<IPositionGrain>(settlement.PositionKey).GetAsync() is { Status: PositionStatus.Open or PositionStatus.Pending } live
        && live.PositionId != settlement.PositionId;

    public async Task BatchCompletedAsync(Guid batchId)
    {
        // The batch's stored status, not the caller's word: a batch reported completed while it runs would make its
        // subscribers forget answers its retries still need.
        var batch = await GrainFactory.GetGrain<IBatchGrain>(batchId).GetStatusAsync();
        if (batch is not { Status: BatchStatus.Completed } || batch.AgentId != AgentId) return;
        var completed = S.CompletedBatches.TryGetValue(batch.Symbol, out var list) ? list : S.CompletedBatches[batch.Symbol] = [];
        if (completed.Contains(batchId)) return;
        completed.Add(batchId);
        if (completed.Count > RememberedCompletedBatches) completed.RemoveAt(0);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<Guid>> GetCompletedBatchesAsync(string symbol) =>
        Task.FromResult<IReadOnlyList<Guid>>(S.CompletedBatches.TryGetValue(symbol, out var completed) ? completed.ToArray() : []);

    /// <summary>
    /// What the feed or the position would refuse, checked before the nonce is spent; with the fresh price it read, which the
    /// intent then trades at.
    /// </summary>
    private async Task<(Rejection? Problem, decimal? Price)> PrecheckAsync(IntentRequest request, AdmittedIntent admitted, DateTimeOffset now)
    {
        var symbol = admitted.Token.Symbol;
        PriceTick? price = null;
        if (request.Kind != IntentKind.UpdateExitLadder)
        {
            var feed = await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetViewAsync();
            price = feed.Latest;
            if (price is null) return (new Rejection(Errors.NoPrice, $"There is no price for {symbol} yet."), null);
            if (PriceGuard.CheckFresh(new PriceQuote(price.PriceUsd, price.At), symbol, now, prices.Value.Policy) is { } stale) return (stale, null);
            if (request.SpendsAllocation && PriceGuard.CheckNotHeld(feed.HeldPriceUsd, symbol) is { } held) return (held, null);
        }
        var found = await GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(AgentId, admitted.VaultAddress, symbol))
            .GetForCommandAsync(IntentCommandIds.For(request.Nonce));
        // This intent already reached the position, and this agent's activation died before recording it: carry it out
        // again (the position answers what it answered then) instead of refusing what was done.
        if (found.Handled) return (null, price?.PriceUsd);
        var current = found.Position;
        var live = current?.Status is PositionStatus.Open or PositionStatus.Pending;
        var problem = request.Kind switch
        {
            IntentKind.OpenPosition when live => new Rejection(Errors.PositionAlreadyOpen,
                $"Agent {AgentId} already has an open position on {symbol}; use an add or reduce intent.").With("positionId", current!.PositionId),
            IntentKind.AddToPosition or IntentKind.ReducePosition or IntentKind.UpdateExitLadder when !live =>
                new Rejection(Errors.PositionNotFound, $"Agent {AgentId} has no open position on {symbol}."),
            IntentKind.ReducePosition when request.TokenAmount > current!.Size =>
                new Rejection(Errors.InsufficientPositionSize, $"Cannot sell {request.TokenAmount}; the position holds {current.Size}.").With("size", current.Size),
            _ => null,
        };
        return (problem, price?.PriceUsd);
    }

    /// <summary>
    /// A refused intent changes nothing. One that carries the agent's own valid signature is the agent's decision and is
    /// reported (intent.refused), which costs a write; anyone else's junk is not, so strangers cannot fill the log.
    /// </summary>
    private async Task<Result<IntentExecution>> RefusedAsync(IntentRequest request, Rejection rejection, bool signedByAgent)
    {
        AgentDeskMetrics.Intents.Add(1, new KeyValuePair<string, object?>("outcome", rejection.Code.Code));
        if (signedByAgent && Events.Enabled)
        {
            var refused = IntentEvent(request, rejection, stage: "admission", request.Symbol.ToUpperInvariant(), account: null, executed: null);
            // A signed intent is public once relayed, so anyone can send it again: each refusal of it is recorded once, not
            // written and published for every copy (the log would keep only one anyway).
            if (_recordedRefusals.Count >= RememberedRefusals) _recordedRefusals.Clear();
            if (!_recordedRefusals.Add(refused.SourceKey)) return rejection;
            Events.Add(refused);
            await state.WriteStateAsync();
            Events.Publish();
        }
        return rejection;
    }

    /// <summary>Refusals this activation recorded (their event source keys); a copy sent again is not recorded twice.</summary>
    private readonly HashSet<string> _recordedRefusals = new(StringComparer.Ordinal);

    private const int RememberedRefusals = 1_024;

    /// <summary>Whether an intent that admission refused was signed by the agent's signer (checked only when admission could not tell).</summary>
    private bool SignedByAgent(IntentRequest request, IntentVault? vault, Rejection rejection)
    {
        if (rejection.Code == Errors.InvalidSignature || S.SignerAddress is null || vault?.Token(request.Symbol) is not { } token) return false;
        if (IntentAdmission.CheckShape(request) is not null) return false;
        var signed = IntentStructs.Build(request, AgentId, vault.Address, token);
        return signed.IsSuccess && Verifier.IsSignedBy(signed.Value!, request.Signature, S.SignerAddress);
    }

    private EventDraft IntentEvent(IntentRequest request, Rejection? problem, string stage, string symbol, string? account, IntentExecution? executed)
    {
        // The signature names the intent: the same signed intent refused twice for the same reason is one event, however its
        // hex is spelt.
        var signature = (request.Signature.Length > 18 ? request.Signature[2..18] : request.Signature).ToLowerInvariant();
        var outcome = problem is null ? "accepted" : $"refused:{problem.Code.Code}";
        return EventDrafts.Create(S.Organization, $"intent:{AgentId:D}:{request.Nonce}:{signature}:{outcome}",
            problem is null ? EventTypes.IntentAccepted : EventTypes.IntentRefused, AgentId, account, symbol, clock.GetUtcNow(),
            new IntentEventData(request.Nonce, request.Kind.ToString(), request.UsdcAmount, request.TokenAmount, stage, problem?.Code.Code, problem?.Message,
                executed?.Position.PositionId, executed?.Position.Transaction));
    }

    private static Result<IntentExecution> Executed(IntentRequest request, Result<IntentReceipt> result) => result.IsSuccess
        ? Result<IntentExecution>.Ok(new IntentExecution(request.Nonce, result.Value!))
        : result.Problem!;

    private FastIntentVerifier Verifier => _verifier ??= new FastIntentVerifier(intentDomain.Value.ToDomain());

    private IntentAgent IntentView() => new(AgentId, S.SignerAddress, S.Paused, Track, S.AllocationUsdc, Ledger);

    private Result<T> AccountIsVault<T>(string address) => Result<T>.Fail(Errors.AccountIsVault,
        $"Account {address} is the address of agent {AgentId}'s vault; an account there would share the vault's positions.");

    private ISubscriberPageGrain Page(int page) => GrainFactory.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(AgentId, page));

    private Result<T> NotRegistered<T>() => Result<T>.Fail(Errors.AgentNotFound, $"Agent {AgentId} is not registered.");

    private AgentProfile Profile() => new(
        AgentId, S.Name, S.Description, S.ImageUrl, S.AgentType, S.IsPublic, S.Fees, S.Organization, S.SignerAddress,
        S.OwnerId, S.Manager, S.QuorumId, S.Track, S.VaultId, S.AllocationUsdc, Ledger.Nonce, S.PageSizes.Sum(), S.RegisteredAt, S.Paused);
}
