using Orleans.Concurrency;
using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Positions;

/// <summary>
/// The only place a position for one (agent, account, token) can exist: key
/// <c>pos:{agentId}:{account}:{symbol}</c>. Holds the open position or pending trigger order, its exits,
/// and the history of its lifecycles (each with its own positionId).
/// </summary>
[Alias("agentdesk.position")]
public interface IPositionGrain : IGrainWithStringKey
{
    /// <summary>Opens (or places a trigger order). Idempotent on <see cref="OpenPositionCommand.OpenId"/>; a second open while one is open is refused.</summary>
    [Alias("open")]
    Task<Result<PositionSnapshot>> OpenAsync(OpenPositionCommand command);

    /// <summary>Closes the open position or cancels the pending order. Idempotent on the close id.</summary>
    [Alias("close")]
    Task<Result<CloseOutcome>> CloseAsync(ClosePositionCommand command);

    /// <summary>Adds margin to the open position at the latest price; the entry becomes the size-weighted average.</summary>
    [Alias("add")]
    Task<Result<PositionSnapshot>> AddAsync(AddToPositionCommand command);

    /// <summary>Sells part of the open position; selling its whole size closes it.</summary>
    [Alias("reduce")]
    Task<Result<CloseOutcome>> ReduceAsync(ReducePositionCommand command);

    /// <summary>Replaces the exit ladder without changing size; fired rules of the old ladder are forgotten.</summary>
    [Alias("update-exits")]
    Task<Result<PositionSnapshot>> UpdateExitsAsync(UpdateExitsCommand command);

    /// <summary>A price for this position's symbol. One-way: the exit watch never waits on a position.</summary>
    [OneWay, Alias("on-price")]
    Task OnPriceAsync(PriceTick tick);

    /// <summary>The account confirms it applied a settlement; the position stops re-sending it.</summary>
    [Alias("confirm-settlement")]
    Task ConfirmSettlementAsync(string settlementId);

    [Alias("get")]
    Task<PositionSnapshot?> GetAsync();

    [Alias("history")]
    Task<IReadOnlyList<PositionSnapshot>> GetHistoryAsync();
}

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
    [property: Id(2)] TradeSide Side,
    [property: Id(3)] decimal CollateralUsdc,
    [property: Id(4)] decimal Leverage,
    [property: Id(5)] decimal ReferencePrice,
    [property: Id(6)] int TokenDecimals,
    [property: Id(7)] string? TokenAddress,
    [property: Id(8)] decimal TriggerPrice,
    [property: Id(9)] decimal StopLossPrice,
    [property: Id(10)] decimal TakeProfitPrice,
    [property: Id(11)] decimal TrailingStopPercentage,
    [property: Id(12)] IReadOnlyList<ExitRuleMessage> Exits,
    [property: Id(13)] decimal MinTokenOut,
    [property: Id(14)] int MaxSlippageBps,
    [property: Id(15)] SettlementTarget SettleTo = SettlementTarget.Account);

/// <summary>
/// Who receives released margin and P/L: the subscriber account (batch trades) or the agent's vault
/// allocation (signed intents, which trade the vault's capital).
/// </summary>
public enum SettlementTarget
{
    Account,
    AgentVault,
}

[GenerateSerializer, Immutable, Alias("agentdesk.add-position")]
public sealed record AddToPositionCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] decimal CollateralUsdc,
    [property: Id(2)] decimal ReferencePrice,
    [property: Id(3)] decimal MinTokenOut,
    [property: Id(4)] int MaxSlippageBps);

[GenerateSerializer, Immutable, Alias("agentdesk.reduce-position")]
public sealed record ReducePositionCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] decimal TokenAmount,
    [property: Id(2)] decimal ReferencePrice,
    [property: Id(3)] decimal MinUsdcOut,
    [property: Id(4)] int MaxSlippageBps);

[GenerateSerializer, Immutable, Alias("agentdesk.update-exits")]
public sealed record UpdateExitsCommand(
    [property: Id(0)] string CommandId,
    [property: Id(1)] IReadOnlyList<ExitRuleMessage> Exits);

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
    [property: Id(5)] TransactionRef? Transaction);

[GenerateSerializer, Immutable, Alias("agentdesk.price-tick")]
public sealed record PriceTick(
    [property: Id(0)] string Symbol,
    [property: Id(1)] decimal PriceUsd,
    [property: Id(2)] DateTimeOffset At);

[GenerateSerializer, Immutable, Alias("agentdesk.exit-event")]
public sealed record ExitEvent(
    [property: Id(0)] string Reason,
    [property: Id(1)] int? LadderIndex,
    [property: Id(2)] decimal Size,
    [property: Id(3)] decimal Price,
    [property: Id(4)] decimal RealizedPnlUsdc,
    [property: Id(5)] TransactionRef Transaction);

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
    [property: Id(7)] TradeSide Side,
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
    [property: Id(19)] IReadOnlyList<ExitRuleMessage> PendingExits,
    [property: Id(20)] IReadOnlyList<ExitEvent> Exits,
    [property: Id(21)] Guid? BatchId,
    [property: Id(22)] TransactionRef? OpenTransaction,
    [property: Id(23)] DateTimeOffset CreatedAt,
    [property: Id(24)] DateTimeOffset UpdatedAt,
    [property: Id(25)] string? CloseReason,
    [property: Id(26)] decimal? ExitPrice);
