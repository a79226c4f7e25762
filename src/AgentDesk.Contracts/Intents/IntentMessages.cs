using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Intents;

public enum IntentKind
{
    OpenPosition,
    AddToPosition,
    ReducePosition,
    UpdateExitLadder,
}

/// <summary>
/// A signed intent in the agent-friendly form of seed 002 (human amounts, a symbol, the exits array).
/// The agent grain rebuilds the EIP-712 struct from it and the vault binding, then verifies the signature.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-submission")]
public sealed record IntentSubmission(
    [property: Id(0)] IntentKind Kind,
    [property: Id(1)] string Symbol,
    [property: Id(2)] decimal UsdcAmount,
    [property: Id(3)] decimal MinTokenOut,
    [property: Id(4)] decimal TokenAmount,
    [property: Id(5)] decimal MinUsdcOut,
    [property: Id(6)] int MaxSlippageBps,
    [property: Id(7)] IReadOnlyList<ExitRuleMessage> Exits,
    [property: Id(8)] long Deadline,
    [property: Id(9)] long Nonce,
    [property: Id(10)] string Signature);

/// <summary>An intent the agent accepted: its nonce is consumed and its trade counted against the track.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.admitted-intent")]
public sealed record AdmittedIntent(
    [property: Id(0)] long Nonce,
    [property: Id(1)] string VaultAddress,
    [property: Id(2)] string TokenAddress,
    [property: Id(3)] int TokenDecimals,
    [property: Id(4)] string Track);
