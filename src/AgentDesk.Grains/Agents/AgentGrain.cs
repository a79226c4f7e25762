using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Contracts.Intents;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Tracks;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Intents;

namespace AgentDesk.Grains.Agents;

public sealed class AgentState
{
    public bool Registered { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public string? ImageUrl { get; set; }
    public string AgentType { get; set; } = "PERPETUAL";
    public bool IsPublic { get; set; }
    public List<AgentFeeMessage> Fees { get; set; } = [];
    public string Organization { get; set; } = "";
    public string? SignerAddress { get; set; }
    public string? OwnerId { get; set; }
    public string? Manager { get; set; }
    public string QuorumId { get; set; } = "";
    public string Track { get; set; } = Tracks.DefaultName;
    public string? VaultId { get; set; }
    public decimal AllocationUsdc { get; set; }
    public long Nonce { get; set; }
    public DailyCounters? Counters { get; set; }

    /// <summary>USDC of the allocation in open intent positions (opens and adds; released as positions close).</summary>
    public decimal DeployedUsdc { get; set; }

    /// <summary>Symbols the agent has traded with intents: its vault positions live at pos:{agent}:{vault}:{symbol}.</summary>
    public SortedSet<string> IntentSymbols { get; set; } = [];

    /// <summary>Vault-position settlements already applied, newest last.</summary>
    public List<string> AppliedSettlements { get; set; } = [];
    public DateTimeOffset RegisteredAt { get; set; }

    /// <summary>How many accounts each subscriber page holds; pages fill in order, so only the last has room.</summary>
    public List<int> PageSizes { get; set; } = [];
}

[GrainType("agent")]
public sealed class AgentGrain(
    [PersistentState(StorageNames.Agent, StorageNames.Provider)] IPersistentState<AgentState> state,
    Microsoft.Extensions.Options.IOptions<IntentDomainOptions> intentDomain,
    TimeProvider clock) : Grain, IAgentGrain
{
    private FastIntentVerifier? _verifier;

    // Vaults only ever gain tokens and never change address, so a cached view is refreshed only when it
    // lacks the symbol asked for (or the agent is bound to another vault).
    private VaultView? _vault;

    private AgentState S => state.State;
    private Guid AgentId => this.GetPrimaryKey();

    public async Task<Result<AgentProfile>> RegisterAsync(AgentRegistration registration)
    {
        if (S.Registered)
            return Result<AgentProfile>.Fail("agent_already_registered", $"Agent {AgentId} is already registered.");
        var fees = registration.Fees.Select(f => f.ToDomain()).ToList();
        if (registration.Fees.Any(f => f.Type is not ("FLAT" or "BPS")))
            return Result<AgentProfile>.Fail("invalid_fee", "Every fee type must be FLAT or BPS.");
        if (AgentRegistrationRules.Validate(registration.Name, registration.Description, registration.ImageUrl, registration.AgentType, fees, registration.SignerAddress) is { } rejection)
            return Result<AgentProfile>.Fail(rejection.ToProblem());

        S.Registered = true;
        S.Name = registration.Name;
        S.Description = registration.Description;
        S.ImageUrl = registration.ImageUrl;
        S.AgentType = AgentTypes.Parse(registration.AgentType)!.Value.ToWire();
        S.IsPublic = registration.IsPublic;
        S.Fees = registration.Fees.ToList();
        S.Organization = registration.Organization;
        S.SignerAddress = registration.SignerAddress is null ? null : EthAddress.Normalize(registration.SignerAddress);
        S.OwnerId = registration.OwnerId;
        S.Manager = registration.Manager;
        // The seed's 2/2 quorum: the agent's signer plus the platform's executor key. Its id is derived, not random,
        // so a re-read of the agent always reports the same quorum.
        S.QuorumId = "q" + Convert.ToHexStringLower(Eip712Encoding.Keccak(AgentId.ToByteArray()).AsSpan(0, 12));
        S.RegisteredAt = clock.GetUtcNow();
        S.Counters = DailyCounters.Start(S.RegisteredAt);
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public Task<AgentProfile?> GetProfileAsync() => Task.FromResult(S.Registered ? Profile() : null);

    public async Task<Result<SubscriptionView>> SubscribeAsync(string account)
    {
        if (!S.Registered) return NotRegistered<SubscriptionView>();
        account = account.ToLowerInvariant();
        var subscriber = GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(account));
        if (await subscriber.GetAsync() is null)
            return Result<SubscriptionView>.Fail("account_not_found", $"Account {account} does not exist; create it first.");

        // The account remembers its page before the page lists it, so a retry after a failure in between
        // re-adds to the same page instead of listing the account twice.
        if (await subscriber.GetSubscriptionPageAsync(AgentId) is { } existing)
        {
            await Page(existing).AddAsync(account);
            return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, true, S.PageSizes.Sum()));
        }

        var page = S.PageSizes.Count > 0 && S.PageSizes[^1] < ISubscriberPageGrain.Capacity ? S.PageSizes.Count - 1 : S.PageSizes.Count;
        if (page == S.PageSizes.Count) S.PageSizes.Add(0);
        S.PageSizes[page]++;
        await state.WriteStateAsync();
        await subscriber.AddSubscriptionAsync(AgentId, page);
        await Page(page).AddAsync(account);
        return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, true, S.PageSizes.Sum()));
    }

    public async Task<Result<SubscriptionView>> UnsubscribeAsync(string account)
    {
        if (!S.Registered) return NotRegistered<SubscriptionView>();
        account = account.ToLowerInvariant();
        var page = await GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(account)).RemoveSubscriptionAsync(AgentId);
        if (page is not { } number)
            return Result<SubscriptionView>.Fail("not_subscribed", $"Account {account} does not follow agent {AgentId}.");
        await Page(number).RemoveAsync(account);
        if (number < S.PageSizes.Count && S.PageSizes[number] > 0)
        {
            // Freed slots are not reused: pages only fill at the end, which keeps assignment a single counter.
            S.PageSizes[number]--;
            await state.WriteStateAsync();
        }
        return Result<SubscriptionView>.Ok(new SubscriptionView(AgentId, account, false, S.PageSizes.Sum()));
    }

    public Task<int> GetSubscriberPageCountAsync() => Task.FromResult(S.PageSizes.Count);

    public Task<int> GetSubscriberCountAsync() => Task.FromResult(S.PageSizes.Sum());

    public async Task<Result<AgentProfile>> SetTrackAsync(string track)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        var policy = Tracks.BuiltIn.FirstOrDefault(t => string.Equals(t.Name, track, StringComparison.OrdinalIgnoreCase));
        if (policy is null)
            return Result<AgentProfile>.Fail("unknown_track", $"Track '{track}' does not exist; use one of {string.Join(", ", Tracks.BuiltIn.Select(t => t.Name))}.");
        S.Track = policy.Name;
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task<Result<AgentProfile>> BindVaultAsync(string vaultId, decimal allocationUsdc)
    {
        if (!S.Registered) return NotRegistered<AgentProfile>();
        if (allocationUsdc < 0)
            return Result<AgentProfile>.Fail("invalid_amount", "allocationUsdc must not be negative.");
        var allocated = await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId)).AllocateAsync(AgentId, allocationUsdc);
        if (!allocated.IsSuccess) return Result<AgentProfile>.Fail(allocated.Problem!);
        S.VaultId = vaultId;
        S.AllocationUsdc = allocationUsdc;
        await state.WriteStateAsync();
        return Result<AgentProfile>.Ok(Profile());
    }

    public async Task<Result<AdmittedIntent>> AdmitIntentAsync(IntentSubmission submission)
    {
        var admitted = await CheckIntentAsync(submission);
        if (!admitted.IsSuccess)
        {
            AgentDeskMetrics.Intents.Add(1, new KeyValuePair<string, object?>("outcome", admitted.Problem!.Code));
            return admitted;
        }
        Consume(submission);
        await state.WriteStateAsync();
        return admitted;
    }

    /// <summary>Spends the nonce and counts the trade against today's turnover and the allocation (not yet stored).</summary>
    private void Consume(IntentSubmission submission)
    {
        var now = clock.GetUtcNow();
        S.Nonce++;
        if (submission.Kind is IntentKind.OpenPosition or IntentKind.AddToPosition)
        {
            S.Counters = (S.Counters ?? DailyCounters.Start(now)).AddTurnover(now, submission.UsdcAmount);
            S.DeployedUsdc += submission.UsdcAmount;
        }
        AgentDeskMetrics.Intents.Add(1, new KeyValuePair<string, object?>("outcome", "accepted"));
    }

    public Task<AgentUsage> GetUsageAsync()
    {
        var today = (S.Counters ?? DailyCounters.Start(clock.GetUtcNow())).ForDay(clock.GetUtcNow());
        return Task.FromResult(new AgentUsage(S.Nonce, today.Day, today.TurnoverUsdc, today.RealizedLossUsdc, S.DeployedUsdc, S.AllocationUsdc));
    }

    public async Task<Result<IntentExecution>> ExecuteIntentAsync(IntentSubmission submission)
    {
        // Signature, deadline and nonce come first (a replay is a nonce problem), then what the position
        // or the feed would refuse — all before the nonce is spent.
        var symbol = submission.Symbol.ToUpperInvariant();
        var admitted = await CheckIntentAsync(submission);
        var price = admitted.IsSuccess ? await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync() : null;
        var problem = admitted.Problem ?? (price is null ? new Problem("no_price", $"There is no price for {symbol} yet.") : await PrecheckExecutionAsync(submission, symbol));
        if (problem is not null)
        {
            AgentDeskMetrics.Intents.Add(1, new KeyValuePair<string, object?>("outcome", problem.Code));
            return Result<IntentExecution>.Fail(problem);
        }
        // The nonce is spent in memory now and stored once below, after the position answered: the position is
        // idempotent on the command id "intent:{nonce}", so if this activation dies in between, the same
        // intent sent again re-admits, gets the position's stored answer back, and is recorded once.
        Consume(submission);
        var intent = admitted.Value!;
        S.IntentSymbols.Add(symbol);
        var priceUsd = price!.PriceUsd;
        var position = GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(AgentId, intent.VaultAddress, symbol));
        var commandId = $"intent:{intent.Nonce}";
        Result<IntentExecution> executed = submission.Kind switch
        {
            IntentKind.OpenPosition => Executed(intent, await position.OpenAsync(new OpenPositionCommand(commandId, null, TradeSide.Long,
                submission.UsdcAmount, 1m, priceUsd, intent.TokenDecimals, intent.TokenAddress, 0, 0, 0, 0, submission.Exits,
                submission.MinTokenOut, submission.MaxSlippageBps, SettlementTarget.AgentVault))),
            IntentKind.AddToPosition => Executed(intent, await position.AddAsync(new AddToPositionCommand(commandId, submission.UsdcAmount, priceUsd,
                submission.MinTokenOut, submission.MaxSlippageBps))),
            IntentKind.ReducePosition => Executed(intent, await position.ReduceAsync(new ReducePositionCommand(commandId, submission.TokenAmount, priceUsd,
                submission.MinUsdcOut, submission.MaxSlippageBps))),
            _ => Executed(intent, await position.UpdateExitsAsync(new UpdateExitsCommand(commandId, submission.Exits))),
        };
        if (!executed.IsSuccess && submission.Kind is IntentKind.OpenPosition or IntentKind.AddToPosition)
        {
            // The venue refused after admission: the nonce stays used, but nothing was deployed.
            S.DeployedUsdc -= submission.UsdcAmount;
            var now = clock.GetUtcNow();
            S.Counters = (S.Counters ?? DailyCounters.Start(now)).AddTurnover(now, -submission.UsdcAmount);
        }
        await state.WriteStateAsync();
        return executed;
    }

    public async Task<Result<IntentQuote>> QuoteAsync(IntentSubmission draft)
    {
        if (!S.Registered) return NotRegistered<IntentQuote>();
        if (S.VaultId is null) return Result<IntentQuote>.Fail("no_vault", "The agent is not bound to a vault.");
        var vault = await VaultAsync(draft.Symbol);
        var token = vault?.Tokens.FirstOrDefault(t => string.Equals(t.Symbol, draft.Symbol, StringComparison.OrdinalIgnoreCase));
        if (vault is null || token is null)
            return Result<IntentQuote>.Fail("symbol_not_allowed", $"{draft.Symbol} is not in vault {S.VaultId}'s allowlist.");
        var exits = draft.Exits.ToDomain();
        if (!exits.IsSuccess) return Result<IntentQuote>.Fail(exits.Rejection!.ToProblem());
        var now = clock.GetUtcNow();
        var filled = draft with { Nonce = S.Nonce, Deadline = draft.Deadline > 0 ? draft.Deadline : now.AddMinutes(10).ToUnixTimeSeconds() };
        var signed = IntentStructs.Build(filled, AgentId, vault.Address, token.Address, token.Decimals, exits.Value!);
        if (!signed.IsSuccess) return Result<IntentQuote>.Fail(signed.Rejection!.ToProblem());
        var template = TypedDataTemplate.For(intentDomain.Value.ToDomain(), signed.Value!);
        var track = Tracks.BuiltIn.First(t => t.Name == S.Track);
        var headroom = TrackLimits.Headroom(track, S.AllocationUsdc, S.DeployedUsdc, (S.Counters ?? DailyCounters.Start(now)).ForDay(now));
        var bounds = track.ExitBounds;
        return Result<IntentQuote>.Ok(new IntentQuote(S.Nonce, S.VaultId, vault.Address, token.Address, token.Decimals, track.Name,
            S.AllocationUsdc, S.DeployedUsdc, headroom.AllocationHeadroomUsdc, headroom.MaxTradeSizeUsdc, headroom.DailyTurnoverHeadroomUsdc,
            headroom.DailyLossHeadroomUsdc, bounds.MaxStopLossBps, bounds.MinTakeProfitBps, bounds.MaxTakeProfitBps, bounds.RequireStopLoss,
            bounds.RequireTakeProfit, System.Text.Json.JsonSerializer.Serialize(template, TemplateJson)));
    }

    public Task<IReadOnlyList<string>> GetIntentSymbolsAsync() => Task.FromResult<IReadOnlyList<string>>(S.IntentSymbols.ToArray());

    private static readonly System.Text.Json.JsonSerializerOptions TemplateJson = new(System.Text.Json.JsonSerializerDefaults.Web);

    private async Task<Problem?> PrecheckExecutionAsync(IntentSubmission submission, string symbol)
    {
        var vault = await VaultAsync(symbol);
        if (vault is null) return null;
        var current = await GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(AgentId, vault.Address, symbol)).GetAsync();
        var live = current?.Status is PositionStatus.Open or PositionStatus.Pending;
        return submission.Kind switch
        {
            IntentKind.OpenPosition when live => new Problem("position_already_open",
                $"Agent {AgentId} already has an open position on {symbol}; use an add or reduce intent.",
                new Dictionary<string, string> { ["positionId"] = current!.PositionId }),
            IntentKind.AddToPosition or IntentKind.ReducePosition or IntentKind.UpdateExitLadder when !live =>
                new Problem("position_not_found", $"Agent {AgentId} has no open position on {symbol}."),
            IntentKind.ReducePosition when submission.TokenAmount > current!.Size => new Problem("insufficient_position_size",
                $"Cannot sell {submission.TokenAmount}; the position holds {current.Size}.",
                new Dictionary<string, string> { ["size"] = current.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
            _ => null,
        };
    }

    private static Result<IntentExecution> Executed(AdmittedIntent intent, Result<PositionSnapshot> result) => result.IsSuccess
        ? Result<IntentExecution>.Ok(new IntentExecution(intent.Nonce, result.Value, result.Value!.OpenTransaction, 0m))
        : Result<IntentExecution>.Fail(result.Problem!);

    private static Result<IntentExecution> Executed(AdmittedIntent intent, Result<CloseOutcome> result) => result.IsSuccess
        ? Result<IntentExecution>.Ok(new IntentExecution(intent.Nonce, result.Value!.Position, result.Value.Transaction, result.Value.RealizedPnlUsdc))
        : Result<IntentExecution>.Fail(result.Problem!);

    public async Task SettleVaultPositionAsync(Settlement settlement)
    {
        if (!S.AppliedSettlements.Contains(settlement.SettlementId))
        {
            var now = clock.GetUtcNow();
            S.DeployedUsdc = Math.Max(0m, S.DeployedUsdc - settlement.ReleasedMarginUsdc);
            S.Counters = (S.Counters ?? DailyCounters.Start(now)).AddRealizedPnl(now, settlement.RealizedPnlUsdc);
            S.AppliedSettlements.Add(settlement.SettlementId);
            if (S.AppliedSettlements.Count > 1024) S.AppliedSettlements.RemoveAt(0);
            await state.WriteStateAsync();
        }
        await GrainFactory.GetGrain<Contracts.Positions.IPositionGrain>(settlement.PositionKey).ConfirmSettlementAsync(settlement.SettlementId);
    }

    private async Task<Result<AdmittedIntent>> CheckIntentAsync(IntentSubmission submission)
    {
        if (!S.Registered) return NotRegistered<AdmittedIntent>();
        if (S.SignerAddress is null)
            return Result<AdmittedIntent>.Fail("no_signer", "The agent has no signerAddress; register it with one to send signed intents.");
        if (S.VaultId is null)
            return Result<AdmittedIntent>.Fail("no_vault", "The agent is not bound to a vault.");
        var vault = await VaultAsync(submission.Symbol);
        var token = vault?.Tokens.FirstOrDefault(t => string.Equals(t.Symbol, submission.Symbol, StringComparison.OrdinalIgnoreCase));
        if (vault is null || token is null)
            return Result<AdmittedIntent>.Fail("symbol_not_allowed", $"{submission.Symbol} is not in vault {S.VaultId}'s allowlist.");

        var exits = submission.Exits.ToDomain();
        if (!exits.IsSuccess) return Result<AdmittedIntent>.Fail(exits.Rejection!.ToProblem());
        var signed = IntentStructs.Build(submission, AgentId, vault.Address, token.Address, token.Decimals, exits.Value!);
        if (!signed.IsSuccess) return Result<AdmittedIntent>.Fail(signed.Rejection!.ToProblem());
        _verifier ??= new FastIntentVerifier(intentDomain.Value.ToDomain());
        if (!_verifier.IsSignedBy(signed.Value!, submission.Signature, S.SignerAddress))
            return Result<AdmittedIntent>.Fail("invalid_signature", "The signature does not recover to the agent's signer for this intent, domain and nonce.");

        var now = clock.GetUtcNow();
        if (IntentRules.CheckDeadline(submission.Deadline, now) is { } expired) return Result<AdmittedIntent>.Fail(expired.ToProblem());
        if (IntentRules.CheckNonce(S.Nonce, submission.Nonce) is { } wrongNonce) return Result<AdmittedIntent>.Fail(wrongNonce.ToProblem());

        var track = Tracks.BuiltIn.First(t => t.Name == S.Track);
        if (submission.Kind is IntentKind.OpenPosition or IntentKind.UpdateExitLadder
            && ExitLadder.Validate(exits.Value!, track.ExitBounds) is { } badLadder)
            return Result<AdmittedIntent>.Fail(badLadder.ToProblem());
        if (submission.Kind is IntentKind.OpenPosition or IntentKind.AddToPosition)
        {
            if (submission.UsdcAmount <= 0) return Result<AdmittedIntent>.Fail("invalid_amount", "usdcAmount must be positive.");
            var today = (S.Counters ?? DailyCounters.Start(now)).ForDay(now);
            if (TrackLimits.CheckTrade(track, S.AllocationUsdc, S.DeployedUsdc, today, submission.UsdcAmount) is { } limit)
                return Result<AdmittedIntent>.Fail(limit.ToProblem());
        }
        return Result<AdmittedIntent>.Ok(new AdmittedIntent(submission.Nonce, vault.Address, token.Address, token.Decimals, track.Name));
    }

    private async Task<VaultView?> VaultAsync(string symbol)
    {
        if (_vault is { } cached && cached.VaultId == S.VaultId
            && cached.Tokens.Any(t => string.Equals(t.Symbol, symbol, StringComparison.OrdinalIgnoreCase)))
            return cached;
        _vault = await GrainFactory.GetGrain<IVaultGrain>(GrainKeys.Vault(S.VaultId!)).GetAsync();
        return _vault;
    }

    private ISubscriberPageGrain Page(int page) => GrainFactory.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(AgentId, page));

    private Result<T> NotRegistered<T>() => Result<T>.Fail("agent_not_found", $"Agent {AgentId} is not registered.");

    private AgentProfile Profile() => new(
        AgentId, S.Name, S.Description, S.ImageUrl, S.AgentType, S.IsPublic, S.Fees, S.Organization, S.SignerAddress,
        S.OwnerId, S.Manager, S.QuorumId, S.Track, S.VaultId, S.AllocationUsdc, S.Nonce, S.PageSizes.Sum(), S.RegisteredAt);
}

public sealed class SubscriberPageState
{
    public List<string> Accounts { get; set; } = [];
}

[GrainType("subscriber-page")]
public sealed class SubscriberPageGrain(
    [PersistentState(StorageNames.SubscriberPage, StorageNames.Provider)] IPersistentState<SubscriberPageState> state) : Grain, ISubscriberPageGrain
{
    public async Task AddAsync(string account)
    {
        if (state.State.Accounts.Contains(account)) return;
        state.State.Accounts.Add(account);
        await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string account)
    {
        if (state.State.Accounts.Remove(account)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetAccountsAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Accounts.ToArray());
}
