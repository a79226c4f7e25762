using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;

namespace AgentDesk.Contracts.Accounts;

/// <summary>
/// A subscriber's account (key <c>acct:{organisation}:{address}</c>): free and locked USDC collateral,
/// deposits, the agents it follows, and the idempotent per-batch steps that size and open its trades.
/// </summary>
[Alias("agentdesk.subscriber")]
public interface ISubscriberGrain : IGrainWithStringKey
{
    /// <summary>Creates the account; creating an existing account changes nothing.</summary>
    [Alias("create")]
    Task<AccountView> CreateAsync();

    [Alias("get")]
    Task<AccountView?> GetAsync();

    /// <summary>
    /// Credits USDC collateral. Repeating a <paramref name="depositId"/> with the same amount credits nothing
    /// more; with another amount it is an <see cref="Errors.IdempotencyConflict"/>.
    /// </summary>
    [Alias("deposit")]
    Task<Result<AccountView>> DepositAsync(string depositId, decimal amountUsdc);

    /// <summary>Sizes and opens this account's part of a batch. Idempotent on the batch id.</summary>
    [Alias("open-from-batch")]
    Task<BatchStepOutcome> OpenFromBatchAsync(BatchOpenStep batchStep);

    /// <summary>
    /// The batch gives up on this account's step: answers what the step did (an open the position carried out is
    /// locked and recorded as the success it was) and otherwise records <paramref name="refusal"/>, after which the step
    /// can never open anything. Idempotent on the batch id.
    /// </summary>
    [Alias("conclude-batch-step")]
    Task<BatchStepOutcome> ConcludeBatchStepAsync(BatchOpenStep batchStep, Rejection refusal);

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
    [property: Id(1)] string Organization,
    [property: Id(2)] decimal FreeUsdc,
    [property: Id(3)] decimal LockedUsdc,
    [property: Id(4)] decimal DepositedUsdc,
    [property: Id(5)] decimal FeesPaidUsdc,
    [property: Id(6)] decimal RealizedPnlUsdc,
    [property: Id(7)] IReadOnlyList<Guid> Subscriptions,
    [property: Id(8)] IReadOnlyList<string> OpenPositionKeys);

/// <summary>
/// One subscriber's share of a batch-open: everything needed to size and open it. <see cref="MayRepeat"/> says the step
/// may have been sent before (a retry, or a resumed batch), so an earlier attempt may have opened its position.
/// <see cref="CompletedBatches"/> are the agent's batches known to have completed: nothing retries their steps any more,
/// so the account and the position forget what they remembered for them.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.batch-open-step")]
public sealed record BatchOpenStep(
    [property: Id(0)] Guid BatchId,
    [property: Id(1)] Guid AgentId,
    [property: Id(2)] string Symbol,
    [property: Id(3)] Side Side,
    [property: Id(4)] decimal Weight,
    [property: Id(5)] decimal Leverage,
    [property: Id(6)] IReadOnlyList<AgentFee> Fees,
    [property: Id(7)] FeeCaps FeeCaps,
    [property: Id(8)] decimal ReferencePrice,
    [property: Id(9)] int TokenDecimals,
    [property: Id(10)] string? TokenAddress,
    [property: Id(11)] decimal TriggerPrice,
    [property: Id(12)] decimal StopLossPrice,
    [property: Id(13)] decimal TakeProfitPrice,
    [property: Id(14)] decimal TrailingStopPercentage,
    [property: Id(15)] AgentType AgentType = AgentType.Perpetual,
    [property: Id(16)] bool MayRepeat = false,
    [property: Id(17)] IReadOnlyList<Guid>? CompletedBatches = null);

[GenerateSerializer, Immutable, Alias("agentdesk.batch-step-outcome")]
public sealed record BatchStepOutcome(
    [property: Id(0)] string Account,
    [property: Id(1)] bool Success,
    [property: Id(2)] string? PositionId,
    [property: Id(3)] bool IsOrder,
    [property: Id(4)] decimal CollateralUsdc,
    [property: Id(5)] IReadOnlyList<FeeCharge> Fees,
    [property: Id(6)] TransactionRef? Transaction,
    [property: Id(7)] Rejection? Problem,
    [property: Id(8)] bool Skipped = false);

/// <summary>
/// Money a position hands back to its account: released margin and the payout (margin ± P/L). An order cancelled before it
/// filled also hands back the fees its placing charged (<see cref="RefundedFees"/>, not in the payout: a silo of a release
/// before refunds then skips the refund whole instead of crediting it without taking it from the ledger). Fees are charged
/// only on trades that happen. They leave the fee ledgers through the batch-close that cancelled the order, one call per
/// fee address (<see cref="LedgerRefundedByBatch"/>), or else through the account.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.settlement")]
public sealed record Settlement(
    [property: Id(0)] string SettlementId,
    [property: Id(1)] string PositionKey,
    [property: Id(2)] string PositionId,
    [property: Id(3)] decimal ReleasedMarginUsdc,
    [property: Id(4)] decimal PayoutUsdc,
    [property: Id(5)] decimal RealizedPnlUsdc,
    [property: Id(6)] bool Closed,
    [property: Id(7)] IReadOnlyList<FeeCharge>? RefundedFees = null,
    [property: Id(8)] bool LedgerRefundedByBatch = false);
