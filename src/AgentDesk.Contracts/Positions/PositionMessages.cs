using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Contracts.Positions;

public enum PositionStatus
{
    Pending,
    Open,
    Closed,
    Cancelled,
}

[GenerateSerializer, Immutable, Alias("agentdesk.open-position")]
public sealed record OpenPositionCommand(
    [property: Id(0)] string OpenId,
    [property: Id(1)] Guid? BatchId,
    [property: Id(2)] string Organization,
    [property: Id(3)] string? SettleToAccount,
    [property: Id(4)] Side Side,
    [property: Id(5)] decimal CollateralUsdc,
    [property: Id(6)] IReadOnlyList<Domain.Agents.FeeCharge> Fees,
    [property: Id(7)] decimal Leverage,
    [property: Id(8)] decimal ReferencePrice,
    [property: Id(9)] int TokenDecimals,
    [property: Id(10)] string? TokenAddress,
    [property: Id(11)] decimal TriggerPrice,
    [property: Id(12)] decimal StopLossPrice,
    [property: Id(13)] decimal TakeProfitPrice,
    [property: Id(14)] decimal TrailingStopPercentage,
    [property: Id(15)] IReadOnlyList<ExitRule> Exits,
    [property: Id(16)] decimal MinTokenOut,
    [property: Id(17)] int MaxSlippageBps,
    [property: Id(18)] IntentAuthorization? Authorization,
    [property: Id(19)] Domain.Agents.AgentType AgentType = Domain.Agents.AgentType.Perpetual,
    [property: Id(20)] IReadOnlyList<Guid>? CompletedBatches = null);

[GenerateSerializer, Immutable, Alias("agentdesk.add-position")]
public sealed record AddToPositionCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] decimal CollateralUsdc,
    [property: Id(2)] decimal ReferencePrice,
    [property: Id(3)] decimal MinTokenOut,
    [property: Id(4)] int MaxSlippageBps,
    [property: Id(5)] IntentAuthorization? Authorization);

[GenerateSerializer, Immutable, Alias("agentdesk.reduce-position")]
public sealed record ReducePositionCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] decimal TokenAmount,
    [property: Id(2)] decimal ReferencePrice,
    [property: Id(3)] decimal MinUsdcOut,
    [property: Id(4)] int MaxSlippageBps,
    [property: Id(5)] IntentAuthorization? Authorization);

[GenerateSerializer, Immutable, Alias("agentdesk.update-exits")]
public sealed record UpdateExitsCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] IReadOnlyList<ExitRule> Exits,
    [property: Id(2)] IntentAuthorization? Authorization);

/// <summary>Why a position was closed by hand or by its agent (automatic exits carry their own reasons).</summary>
public static class CloseReasons
{
    public const string Manual = "manual";
    public const string StopLoss = "stop_loss";
    public const string TakeProfit = "take_profit";
    public const string TrailingStop = "trailing_stop";
    public const string LadderStopLoss = "ladder_stop_loss";
    public const string LadderTakeProfit = "ladder_take_profit";
    public const string BatchClose = "batch_close";
    public const string Reduce = "reduce";
    public const string OrderRejected = "order_rejected";
}

[GenerateSerializer, Immutable, Alias("agentdesk.close-position")]
public sealed record ClosePositionCommand(
    [property: Id(0)] string CloseId,
    [property: Id(1)] string Reason,
    [property: Id(2)] Guid? OnlyIfOpenedByBatch,
    [property: Id(3)] string? OnlyPositionId,
    [property: Id(4)] decimal ReferencePrice,
    [property: Id(5)] IReadOnlyList<Guid>? CompletedBatches = null);

/// <summary>
/// A close's or a reduce's answer as versions before the receipts remembered it, with the whole position: read from their
/// rows only (<see cref="CloseReceipt.Of"/>, and an intent's reduce moved into an <see cref="IntentReceipt"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.close-outcome")]
public sealed record CloseOutcome(
    [property: Id(0)] bool Skipped,
    [property: Id(1)] string? Message,
    [property: Id(2)] PositionSnapshot? Position,
    [property: Id(3)] decimal RealizedPnlUsdc,
    [property: Id(4)] decimal ExitPrice,
    [property: Id(5)] TransactionRef? Transaction,
    [property: Id(6)] string? HistoricalSwapId);

/// <summary>
/// What a close command answers its caller (a batch-close step, a user's close): whether it was skipped, the position it
/// closed, and the sale. Not the position's whole snapshot, which no such caller reads: the position remembers this per
/// close id for as long as the caller may retry, so its size is what every later activation of the position reads.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.close-receipt")]
public sealed record CloseReceipt(
    [property: Id(0)] bool Skipped,
    [property: Id(1)] string? Message,
    [property: Id(2)] string? PositionId,
    [property: Id(3)] PositionStatus? Status,
    [property: Id(4)] decimal RealizedPnlUsdc,
    [property: Id(5)] decimal ExitPrice,
    [property: Id(6)] TransactionRef? Transaction,
    [property: Id(7)] string? HistoricalSwapId,
    [property: Id(8)] IReadOnlyList<Domain.Agents.FeeCharge>? RefundedFees = null)
{
    public static CloseReceipt Of(CloseOutcome outcome) => new(outcome.Skipped, outcome.Message, outcome.Position?.PositionId, outcome.Position?.Status,
        outcome.RealizedPnlUsdc, outcome.ExitPrice, outcome.Transaction, outcome.HistoricalSwapId);
}

/// <summary>
/// What a batch step reads back from the position it opened: the position, whether it is an order still waiting for its
/// trigger, the margin and fees the account locks and records, and the opening transaction. Remembered per open id instead
/// of the whole snapshot, for the same reason as <see cref="CloseReceipt"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.open-receipt")]
public sealed record OpenReceipt(
    [property: Id(0)] string PositionId,
    [property: Id(1)] PositionStatus Status,
    [property: Id(2)] decimal MarginUsdc,
    [property: Id(3)] IReadOnlyList<Domain.Agents.FeeCharge> Fees,
    [property: Id(4)] TransactionRef? OpenTransaction)
{
    public static OpenReceipt Of(PositionSnapshot opened) => new(opened.PositionId, opened.Status, opened.MarginUsdc, opened.Fees, opened.OpenTransaction);
}

/// <summary>
/// What an agent's intent did to its position: the fields the intent's HTTP answer reports (the gateway's
/// <c>IntentResponse</c>). The transaction is the intent's own (the position's last when it traded nothing), the P/L a
/// sale's, and the trade record the position's latest sale's (a reduce's answer reports it). The position and the agent
/// each remember this per intent instead of the whole snapshot, because every intent writes both rows again with all
/// they remember: about 0.7 KB an answer instead of 2 KB.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-receipt")]
public sealed record IntentReceipt(
    [property: Id(0)] string PositionId,
    [property: Id(1)] string Symbol,
    [property: Id(2)] PositionStatus Status,
    [property: Id(3)] decimal Size,
    [property: Id(4)] decimal EntryPrice,
    [property: Id(5)] IReadOnlyList<ExitRule> PendingExits,
    [property: Id(6)] TransactionRef? Transaction,
    [property: Id(7)] decimal RealizedPnlUsdc,
    [property: Id(8)] string? HistoricalSwapId)
{
    /// <summary>A receipt made from a whole snapshot, as older rows remembered it; a sale passes its own P/L and transaction.</summary>
    public static IntentReceipt Of(PositionSnapshot position, TransactionRef? transaction = null, decimal realizedPnlUsdc = 0m,
        string? historicalSwapId = null) =>
        new(position.PositionId, position.Symbol, position.Status, position.Size, position.EntryPrice, position.PendingExits,
            transaction ?? position.LastTransaction ?? position.OpenTransaction, realizedPnlUsdc,
            historicalSwapId ?? (position.Exits is [.., var last] ? last.HistoricalSwapId : null));
}

/// <summary>
/// The command id a batch gives each position it reaches (its open or its close): one per batch, so a resumed batch's step
/// finds what the first attempt did.
/// </summary>
public static class BatchCommandIds
{
    public static string For(Guid batchId) => $"batch:{batchId:D}";
}

/// <summary>The command id an agent's intent gives the position it trades: one per nonce, so the position carries each intent out once.</summary>
public static class IntentCommandIds
{
    private const string Prefix = "intent:";

    public static string For(long nonce) => Prefix + nonce.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static bool IsIntent(string commandId) => commandId.StartsWith(Prefix, StringComparison.Ordinal);
}

/// <summary>One sale of (part of) a position: an automatic exit, a reduce or a close.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.exit-event")]
public sealed record ExitEvent(
    [property: Id(0)] string Reason,
    [property: Id(1)] int? LadderIndex,
    [property: Id(2)] decimal Size,
    [property: Id(3)] decimal Price,
    [property: Id(4)] decimal RealizedPnlUsdc,
    [property: Id(5)] TransactionRef Transaction,
    [property: Id(6)] string HistoricalSwapId,
    [property: Id(7)] DateTimeOffset At);

/// <summary>The position (or null) and whether a given command was already carried out on it.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.position-for-command")]
public sealed record PositionForCommand(
    [property: Id(0)] PositionSnapshot? Position,
    [property: Id(1)] bool Handled);

/// <summary>A position lifecycle as seen from outside: what it holds, its exits, and how it ended.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.position-snapshot")]
public sealed record PositionSnapshot(
    [property: Id(0)] string PositionId,
    [property: Id(1)] string Key,
    [property: Id(2)] Guid AgentId,
    [property: Id(3)] string Account,
    [property: Id(4)] string Symbol,
    [property: Id(5)] string? TokenAddress,
    [property: Id(6)] PositionStatus Status,
    [property: Id(7)] Side Side,
    [property: Id(8)] decimal Size,
    [property: Id(9)] decimal OriginalSize,
    [property: Id(10)] decimal EntryPrice,
    [property: Id(11)] decimal Leverage,
    [property: Id(12)] decimal MarginUsdc,
    [property: Id(13)] decimal RealizedPnlUsdc,
    [property: Id(14)] decimal? TriggerPrice,
    [property: Id(15)] decimal? StopLossPrice,
    [property: Id(16)] decimal? TakeProfitPrice,
    [property: Id(17)] decimal? TrailingStopPercentage,
    [property: Id(18)] decimal? ExtremePrice,
    [property: Id(19)] IReadOnlyList<ExitRule> PendingExits,
    [property: Id(20)] IReadOnlyList<ExitEvent> Exits,
    [property: Id(21)] Guid? BatchId,
    [property: Id(22)] TransactionRef? OpenTransaction,
    [property: Id(23)] DateTimeOffset CreatedAt,
    [property: Id(24)] DateTimeOffset UpdatedAt,
    [property: Id(25)] string? CloseReason,
    [property: Id(26)] decimal? ExitPrice,
    [property: Id(27)] string Organization,
    [property: Id(28)] IReadOnlyList<Domain.Agents.FeeCharge> Fees,
    [property: Id(29)] long LastTickSequence,
    [property: Id(30)] TransactionRef? LastTransaction = null)
{
    public decimal FeesUsdc => Fees.Sum(f => f.AmountUsdc);

    public bool IsLive => Status is PositionStatus.Open or PositionStatus.Pending;
}
