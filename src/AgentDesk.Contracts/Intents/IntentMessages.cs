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

/// <summary>What an executed intent did: the consumed nonce and the position it produced or changed.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-execution")]
public sealed record IntentExecution(
    [property: Id(0)] long Nonce,
    [property: Id(1)] Positions.PositionSnapshot? Position,
    [property: Id(2)] TransactionRef? Transaction,
    [property: Id(3)] decimal RealizedPnlUsdc);

/// <summary>Everything a client needs to build and sign the next intent (seed 002's quote).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-quote")]
public sealed record IntentQuote(
    [property: Id(0)] long Nonce,
    [property: Id(1)] string VaultId,
    [property: Id(2)] string VaultAddress,
    [property: Id(3)] string TokenAddress,
    [property: Id(4)] int TokenDecimals,
    [property: Id(5)] string Track,
    [property: Id(6)] decimal AllocationUsdc,
    [property: Id(7)] decimal DeployedUsdc,
    [property: Id(8)] decimal AllocationHeadroomUsdc,
    [property: Id(9)] decimal MaxTradeSizeUsdc,
    [property: Id(10)] decimal DailyTurnoverHeadroomUsdc,
    [property: Id(11)] decimal DailyLossHeadroomUsdc,
    [property: Id(12)] int MaxStopLossBps,
    [property: Id(13)] int MinTakeProfitBps,
    [property: Id(14)] int MaxTakeProfitBps,
    [property: Id(15)] bool RequireStopLoss,
    [property: Id(16)] bool RequireTakeProfit,
    [property: Id(17)] string TypedDataJson);
