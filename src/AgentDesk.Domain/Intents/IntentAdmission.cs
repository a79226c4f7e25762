using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Tracks;

namespace AgentDesk.Domain.Intents;

/// <summary>
/// An agent's intent book: the next nonce, USDC of the allocation deployed in open vault positions, and
/// today's counters. Admission reads it; an accepted intent consumes from it.
/// </summary>
public sealed record IntentLedger(long Nonce, decimal DeployedUsdc, DailyCounters Counters)
{
    public static IntentLedger Start(DateTimeOffset now) => new(0, 0m, DailyCounters.Start(now));

    public DailyCounters Today(DateTimeOffset now) => Counters.ForDay(now);

    /// <summary>An accepted intent spends its nonce and, for opens and adds, counts against turnover and the allocation.</summary>
    public IntentLedger Consume(IntentRequest request, DateTimeOffset now) => request.SpendsAllocation
        ? new(Nonce + 1, DeployedUsdc + request.UsdcAmount, Counters.AddTurnover(now, request.UsdcAmount))
        : this with { Nonce = Nonce + 1 };

    /// <summary>
    /// The venue refused an accepted open or add: the nonce stays spent, but nothing was deployed. The turnover comes back
    /// only to the day that counted it (<paramref name="admittedAt"/>'s): a refusal after midnight leaves the new day as it is.
    /// </summary>
    public IntentLedger Refund(IntentRequest request, DateTimeOffset admittedAt) => request.SpendsAllocation
        ? this with
        {
            DeployedUsdc = Math.Max(0m, DeployedUsdc - request.UsdcAmount),
            Counters = Counters.Day == DailyCounters.UtcDay(admittedAt) ? Counters with { TurnoverUsdc = Counters.TurnoverUsdc - request.UsdcAmount } : Counters,
        }
        : this;

    /// <summary>A vault position released margin and realised P/L: the allocation frees up and losses count for the day.</summary>
    public IntentLedger Settle(decimal releasedMarginUsdc, decimal realizedPnlUsdc, DateTimeOffset now) =>
        new(Nonce, Math.Max(0m, DeployedUsdc - releasedMarginUsdc), Counters.AddRealizedPnl(now, realizedPnlUsdc));
}

/// <summary>What admission needs to know about the agent.</summary>
public sealed record IntentAgent(Guid AgentId, string? SignerAddress, bool Paused, TrackPolicy Track, decimal AllocationUsdc, IntentLedger Ledger);

/// <summary>The vault the agent is bound to: its address and allowlist.</summary>
public sealed record IntentVault(string VaultId, string Address, IReadOnlyList<VaultToken> Tokens)
{
    public VaultToken? Token(string symbol) =>
        Tokens.FirstOrDefault(t => string.Equals(t.Symbol, symbol, StringComparison.OrdinalIgnoreCase));
}

/// <summary>An intent that passed every check: the struct that was signed, where it trades, under which track.</summary>
public sealed record AdmittedIntent(ISignedIntent Intent, string VaultAddress, VaultToken Token, string Track);

/// <summary>
/// Admission of a signed intent (docs/intents.md), as one pure function. The order matters:
/// <list type="number">
/// <item>cheap refusals that need no signature (paused, no signer, no vault, token not allowed);</item>
/// <item>the request's own shape, before anything is hashed (amounts, slippage, exit ladder structure);</item>
/// <item>the signature over the rebuilt struct, then its deadline and nonce (a replay is a nonce problem);</item>
/// <item>the track's bounds and limits, with the headroom left.</item>
/// </list>
/// A rejected intent changes nothing; an admitted one is consumed with <see cref="IntentLedger.Consume"/>.
/// </summary>
public static class IntentAdmission
{
    public const int MaxSlippageBps = 10_000;

    public static Outcome<AdmittedIntent> Check(IntentRequest request, IntentAgent agent, IntentVault? vault, DateTimeOffset now, FastIntentVerifier verifier)
    {
        if (agent.Paused)
            return new Rejection(Errors.AgentPaused, $"Agent {agent.AgentId} is paused; it takes no intents until it is resumed.");
        if (agent.SignerAddress is null)
            return new Rejection(Errors.NoSigner, "The agent has no signerAddress; register it with one to send signed intents.");
        if (vault is null)
            return new Rejection(Errors.NoVault, "The agent is not bound to a vault.");
        if (vault.Token(request.Symbol) is not { } token)
            return new Rejection(Errors.SymbolNotAllowed, $"{request.Symbol} is not in vault {vault.VaultId}'s allowlist.");

        if (CheckShape(request) is { } badShape) return badShape;
        var signed = IntentStructs.Build(request, agent.AgentId, vault.Address, token);
        if (!signed.IsSuccess) return signed.Rejection!;
        if (!verifier.IsSignedBy(signed.Value!, request.Signature, agent.SignerAddress))
            return new Rejection(Errors.InvalidSignature, "The signature does not recover to the agent's signer for this intent, domain and nonce.");
        if (IntentRules.CheckDeadline(request.Deadline, now) is { } expired) return expired;
        if (IntentRules.CheckNonce(agent.Ledger.Nonce, request.Nonce) is { } wrongNonce) return wrongNonce;

        if (request.CarriesLadder && ExitLadder.Validate(request.Exits, agent.Track.ExitBounds) is { } outOfBounds) return outOfBounds;
        if (request.SpendsAllocation
            && TrackLimits.CheckTrade(agent.Track, agent.AllocationUsdc, agent.Ledger.DeployedUsdc, agent.Ledger.Today(now), request.UsdcAmount) is { } limit)
            return limit;
        return new AdmittedIntent(signed.Value!, vault.Address, token, agent.Track.Name);
    }

    /// <summary>What a quote's draft must already satisfy (amounts and exits may still be missing).</summary>
    public static Rejection? CheckDraft(IntentRequest draft)
    {
        if (!Symbols.IsValid(draft.Symbol))
            return new Rejection(Errors.InvalidSymbol, "symbol is required: 1 to 16 letters or digits, such as NVDA.");
        if (draft.MaxSlippageBps is < 0 or > MaxSlippageBps)
            return new Rejection(Errors.InvalidSlippage, $"maxSlippageBps must be between 0 and {MaxSlippageBps}.");
        return draft.Exits.Count > 0 ? ExitLadder.Validate(draft.Exits, ExitBounds.Unbounded) : null;
    }

    /// <summary>What can be refused from the request alone, before any hashing.</summary>
    public static Rejection? CheckShape(IntentRequest request)
    {
        if (!Symbols.IsValid(request.Symbol))
            return new Rejection(Errors.InvalidSymbol, "symbol is required: 1 to 16 letters or digits, such as NVDA.");
        if (request.MaxSlippageBps is < 0 or > MaxSlippageBps)
            return new Rejection(Errors.InvalidSlippage, $"maxSlippageBps must be between 0 and {MaxSlippageBps}.");
        if (request.SpendsAllocation && request.UsdcAmount <= 0)
            return new Rejection(Errors.InvalidAmount, "usdcAmount must be positive.");
        if (request.Kind == IntentKind.ReducePosition && request.TokenAmount <= 0)
            return new Rejection(Errors.InvalidAmount, "tokenAmount must be positive.");
        if (request.Nonce < 0) return new Rejection(Errors.InvalidNonce, "nonce must not be negative.");
        // The ladder's structure is checked before it is hashed: a 70,000 exitBps never reaches the encoder.
        if (request.CarriesLadder && ExitLadder.Validate(request.Exits, ExitBounds.Unbounded) is { } badLadder) return badLadder;
        return null;
    }
}

/// <summary>A signer rotation: the new signer, and the current signer's signature over it (none when the admin rotates).</summary>
public sealed record SignerRotation(string NewSigner, long Deadline, long Nonce, string? Signature);

public static class SignerRotations
{
    /// <summary>
    /// Checks a rotation signed by the current signer: the struct's signature, its deadline and the agent's nonce
    /// (which the rotation spends, so an old rotation cannot be replayed after a rotation back).
    /// </summary>
    public static Rejection? Check(SignerRotation rotation, Guid agentId, string? currentSigner, long nonce, DateTimeOffset now, FastIntentVerifier verifier)
    {
        if (!EthAddress.IsValid(rotation.NewSigner))
            return new Rejection(Errors.InvalidAddress, $"signerAddress must be 0x followed by 40 hex digits; got '{rotation.NewSigner}'.");
        if (currentSigner is null) return new Rejection(Errors.NoSigner, "The agent has no signer to sign the rotation; the admin can set one.");
        if (rotation.Signature is null)
            return new Rejection(Errors.InvalidSignature, "A rotation needs the current signer's signature over RotateSigner, with deadline and nonce.");
        // uint256s of the signed struct: a negative one cannot be hashed, let alone signed.
        if (rotation.Nonce < 0) return new Rejection(Errors.InvalidNonce, "nonce is required: the agent's current nonce, as in the signed RotateSigner.");
        if (rotation.Deadline <= 0) return new Rejection(Errors.InvalidDeadline, "deadline is required (unix seconds, as in the signed RotateSigner).");
        var signed = new RotateSignerIntent(AgentIds.ToUint256(agentId), EthAddress.Normalize(rotation.NewSigner), rotation.Deadline, rotation.Nonce);
        if (!verifier.IsSignedBy(signed, rotation.Signature, currentSigner))
            return new Rejection(Errors.InvalidSignature, "The signature does not recover to the agent's current signer.");
        if (IntentRules.CheckDeadline(rotation.Deadline, now) is { } expired) return expired;
        return IntentRules.CheckNonce(nonce, rotation.Nonce);
    }
}
