using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Intents;

/// <summary>The four signed intents (docs/intents.md).</summary>
public enum IntentKind
{
    OpenPosition,
    AddToPosition,
    ReducePosition,
    UpdateExitLadder,
}

/// <summary>
/// A signed intent in the agent-friendly form (human amounts, a symbol, the exits array). The struct that
/// was signed is rebuilt from it and the agent's vault binding (<see cref="IntentStructs"/>).
/// </summary>
public sealed record IntentRequest(
    IntentKind Kind,
    string Symbol,
    decimal UsdcAmount,
    decimal MinTokenOut,
    decimal TokenAmount,
    decimal MinUsdcOut,
    int MaxSlippageBps,
    IReadOnlyList<ExitRule> Exits,
    long Deadline,
    long Nonce,
    string Signature)
{
    /// <summary>Opens and adds spend the vault's USDC; they count against the allocation and the day's turnover.</summary>
    public bool SpendsAllocation => Kind is IntentKind.OpenPosition or IntentKind.AddToPosition;

    /// <summary>Opens and ladder updates carry an exit ladder.</summary>
    public bool CarriesLadder => Kind is IntentKind.OpenPosition or IntentKind.UpdateExitLadder;
}

/// <summary>A token in a vault's allowlist: the symbol intents name, the address they sign, and its decimals.</summary>
public sealed record VaultToken(string Symbol, string Address, int Decimals);

/// <summary>
/// The agent's signature behind a vault trade: a venue that executes on a chain rebuilds the exact struct that
/// was signed (<see cref="IntentStructs"/>) and relays it with the signature, so the chain verifies it again.
/// </summary>
/// <param name="Signer">The agent's registered signer when the intent was admitted: the key the chain must know for this agent.</param>
/// <param name="AdmittedAt">When it was admitted: the day whose turnover it counts against (absent in authorizations stored before).</param>
public sealed record IntentAuthorization(Guid AgentId, IntentRequest Request, string VaultAddress, VaultToken Token, string? Signer = null,
    DateTimeOffset? AdmittedAt = null);
