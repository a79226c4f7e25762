using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Accounts;

/// <summary>
/// A subscriber's account (key <c>acct:{address}</c>): free and locked USDC collateral, deposits, the
/// agents it follows, and the idempotent per-batch steps that size and open its trades.
/// </summary>
[Alias("agentdesk.subscriber")]
public interface ISubscriberGrain : IGrainWithStringKey
{
    /// <summary>Creates the account; creating an existing account changes nothing.</summary>
    [Alias("create")]
    Task<AccountView> CreateAsync();

    [Alias("get")]
    Task<AccountView?> GetAsync();

    /// <summary>Credits USDC collateral; repeating a <paramref name="depositId"/> credits nothing more.</summary>
    [Alias("deposit")]
    Task<Result<AccountView>> DepositAsync(string depositId, decimal amountUsdc);

    /// <summary>Sizes and opens this account's part of a batch. Idempotent on the batch id.</summary>
    [Alias("open-from-batch")]
    Task<BatchStepOutcome> OpenFromBatchAsync(BatchOpenStep step);

    /// <summary>Applies a position's release of margin and payout. Idempotent on the settlement id.</summary>
    [Alias("settle")]
    Task SettleAsync(Settlement settlement);

    [Alias("subscription-page")]
    Task<int?> GetSubscriptionPageAsync(Guid agentId);

    [Alias("add-subscription")]
    Task AddSubscriptionAsync(Guid agentId, int page);

    [Alias("remove-subscription")]
    Task<int?> RemoveSubscriptionAsync(Guid agentId);
}

[GenerateSerializer, Immutable, Alias("agentdesk.account-view")]
public sealed record AccountView(
    [property: Id(0)] string SmartAccount,
    [property: Id(1)] decimal FreeUsdc,
    [property: Id(2)] decimal LockedUsdc,
    [property: Id(3)] decimal DepositedUsdc,
    [property: Id(4)] decimal FeesPaidUsdc,
    [property: Id(5)] decimal RealizedPnlUsdc,
    [property: Id(6)] IReadOnlyList<Guid> Subscriptions,
    [property: Id(7)] IReadOnlyList<string> OpenPositionKeys);

/// <summary>One subscriber's share of a batch-open: everything needed to size and open it.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.batch-open-step")]
public sealed record BatchOpenStep(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] Guid AgentId,
    [property: Id(2)] string Symbol,
    [property: Id(3)] TradeSide Side,
    [property: Id(4)] decimal Weight,
    [property: Id(5)] decimal Leverage,
    [property: Id(6)] IReadOnlyList<Agents.AgentFeeMessage> Fees,
    [property: Id(7)] decimal ReferencePrice,
    [property: Id(8)] int TokenDecimals,
    [property: Id(9)] decimal TriggerPrice,
    [property: Id(10)] decimal StopLossPrice,
    [property: Id(11)] decimal TakeProfitPrice,
    [property: Id(12)] decimal TrailingStopPercentage);

[GenerateSerializer, Immutable, Alias("agentdesk.batch-step-outcome")]
public sealed record BatchStepOutcome(
    [property: Id(0)] string Account,
    [property: Id(1)] bool Success,
    [property: Id(2)] string? PositionId,
    [property: Id(3)] bool IsOrder,
    [property: Id(4)] decimal CollateralUsdc,
    [property: Id(5)] IReadOnlyList<FeeChargeMessage> Fees,
    [property: Id(6)] TransactionRef? Transaction,
    [property: Id(7)] Problem? Problem,
    [property: Id(8)] bool Skipped = false);

/// <summary>Money a position hands back to its account: released margin and the payout (margin ± P/L).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.settlement")]
public sealed record Settlement(
    [property: Id(0)] string SettlementId,
    [property: Id(1)] string PositionKey,
    [property: Id(2)] string PositionId,
    [property: Id(3)] decimal ReleasedMarginUsdc,
    [property: Id(4)] decimal PayoutUsdc,
    [property: Id(5)] decimal RealizedPnlUsdc,
    [property: Id(6)] bool Closed,
    [property: Id(7)] Positions.SettlementTarget Target = Positions.SettlementTarget.Account);
