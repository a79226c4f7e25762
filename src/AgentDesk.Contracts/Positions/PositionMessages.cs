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
    [property: Id(18)] IntentAuthorization? Authorization);

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
    [property: Id(4)] decimal ReferencePrice);

[GenerateSerializer, Immutable, Alias("agentdesk.close-outcome")]
public sealed record CloseOutcome(
    [property: Id(0)] bool Skipped,
    [property: Id(1)] string? Message,
    [property: Id(2)] PositionSnapshot? Position,
    [property: Id(3)] decimal RealizedPnlUsdc,
    [property: Id(4)] decimal ExitPrice,
    [property: Id(5)] TransactionRef? Transaction,
    [property: Id(6)] string? HistoricalSwapId);

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
    [property: Id(29)] long LastTickSequence)
{
    public decimal FeesUsdc => Fees.Sum(f => f.AmountUsdc);

    public bool IsLive => Status is PositionStatus.Open or PositionStatus.Pending;
}
