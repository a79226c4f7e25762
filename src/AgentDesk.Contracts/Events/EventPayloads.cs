using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Agents;

namespace AgentDesk.Contracts.Events;

// The `data` of each event type, as JSON (camelCase; money in USD(C) as JSON numbers, never rounded). docs/events.md shows each.

/// <summary><c>batch.started</c>, <c>batch.progress</c>, <c>batch.completed</c>: where a batch-open or batch-close stands.</summary>
public sealed record BatchEventData(
    Guid BatchId, string Kind, string Status, Guid AgentId, string Symbol, string? Side, decimal? Weight, decimal? Leverage, Guid? OpenBatchId,
    int Subscribers, int Done, int Successful, int Failed, int Skipped, DateTimeOffset StartedAt, DateTimeOffset? CompletedAt);

/// <summary>
/// <c>position.filled</c>: a position opened (<c>fill</c> = <c>open</c>, also when a trigger order fills) or grew
/// (<c>add</c>). <see cref="Size"/> and <see cref="Price"/> are this fill's; the position's totals follow.
/// </summary>
public sealed record FillEventData(
    string PositionId, string Fill, bool Triggered, string Side, string? TokenAddress, decimal Size, decimal Price, decimal CollateralUsd,
    decimal PositionSize, decimal EntryPrice, decimal Leverage, decimal MarginUsd, IReadOnlyList<FeeCharge> Fees, decimal FeesUsd,
    Guid? BatchId, DateTimeOffset OpenedAt, TransactionRef? Transaction);

/// <summary>
/// <c>position.exited</c>: one sale of (part of) a position, with the rule that fired. It carries everything a closed-trade
/// row needs: which position and sale, who and what, open and close price and time, size, realized P/L, fees and both
/// transactions. Fees are the ones paid to open the position, reported once, on the sale that closes it.
/// </summary>
public sealed record ExitEventData(
    string PositionId, string HistoricalSwapId, int ExitIndex, string Reason, int? LadderIndex, string Side, string? TokenAddress, decimal Leverage,
    decimal EntryPrice, DateTimeOffset OpenedAt, decimal ExitPrice, DateTimeOffset ClosedAt, decimal SizeClosed, decimal SizeRemaining,
    decimal OriginalSize, bool Closed, decimal RealizedPnlUsd, decimal PositionRealizedPnlUsd, decimal ReleasedMarginUsd, decimal PayoutUsd,
    IReadOnlyList<FeeCharge> Fees, decimal FeesUsd, Guid? BatchId, TransactionRef? OpenTransaction, TransactionRef CloseTransaction);

/// <summary><c>position.cancelled</c>: a pending trigger order was cancelled (batch-close, or the venue refused it) and its collateral returned.</summary>
public sealed record CancelEventData(string PositionId, string Reason, string Side, decimal? TriggerPrice, decimal CollateralUsd, Guid? BatchId);

/// <summary>
/// <c>position.settled</c>: margin and P/L a position released arrived where they belong: the subscriber's account
/// (<c>to</c> = <c>account</c>, with the account's balances after it) or the agent's vault allocation (<c>to</c> = <c>vault</c>).
/// </summary>
public sealed record SettlementEventData(
    string SettlementId, string PositionId, string To, decimal ReleasedMarginUsd, decimal PayoutUsd, decimal RealizedPnlUsd, bool Closed,
    decimal? FreeUsdc, decimal? LockedUsdc, decimal? DeployedUsdc, decimal RefundedFeesUsd = 0m);

/// <summary>
/// <c>intent.accepted</c> and <c>intent.refused</c>: a signed intent of the agent carried out, or refused with its error
/// <see cref="Code"/>. <see cref="Stage"/> says whether admission refused it (nonce not spent) or the venue did (nonce spent).
/// </summary>
public sealed record IntentEventData(
    long Nonce, string Kind, decimal UsdcAmount, decimal TokenAmount, string Stage, string? Code, string? Message, string? PositionId,
    TransactionRef? Transaction);

/// <summary><c>price.held</c>: a pushed tick jumped too far from the last accepted price and is held until confirmed.</summary>
public sealed record PriceHeldEventData(decimal HeldPriceUsd, DateTimeOffset HeldAt, decimal? LastPriceUsd, long LastSequence);

/// <summary><c>agent.paused</c> and <c>agent.resumed</c>: the kill switch, and which credential moved it.</summary>
public sealed record AgentStatusEventData(bool Paused, string By);
