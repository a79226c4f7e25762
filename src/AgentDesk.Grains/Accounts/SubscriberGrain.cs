using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Idempotency;
using AgentDesk.Domain.Sizing;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Options;

namespace AgentDesk.Grains.Accounts;

public sealed class SubscriberState
{
    public bool Exists { get; set; }
    public decimal FreeUsdc { get; set; }
    public decimal LockedUsdc { get; set; }
    public decimal DepositedUsdc { get; set; }
    public decimal FeesPaidUsdc { get; set; }
    public decimal RealizedPnlUsdc { get; set; }

    /// <summary>Deposit ids already credited, with their amounts (a reused id with another amount is a conflict).</summary>
    public HandledCommands<decimal> Deposits { get; set; } = new();

    public Dictionary<Guid, int> Subscriptions { get; set; } = [];
    public HashSet<string> OpenPositions { get; set; } = [];

    /// <summary>
    /// The lifecycle (position id) each open position key holds. Every lifecycle of an agent, account and symbol shares the
    /// key, so a close settling late (re-sent, or queued behind the next open) must not drop the key of the one opened since.
    /// Keys stored before this map existed have no entry, and any closing settlement drops them, as before.
    /// </summary>
    public Dictionary<string, string> OpenPositionIds { get; set; } = [];

    /// <summary>Batch steps by batch id: a replayed step answers the stored outcome.</summary>
    public HandledCommands<BatchStepOutcome> Steps { get; set; } = new();

    /// <summary>
    /// The ids of the batches reported completed to this account, the last 64: their steps are forgotten, and a step that
    /// still arrives for one (a message older than the completion) is refused without trading or charging anything.
    /// </summary>
    public HandledCommands<bool> CompletedBatches { get; set; } = new();

    /// <summary>
    /// Settlement ids already applied, so a re-sent settlement pays nothing twice; false while fees it handed back are still
    /// to be taken from the fee ledgers (an order the venue refused when it triggered), true once they are or when none are.
    /// </summary>
    public HandledCommands<bool> Settlements { get; set; } = new();

    /// <summary>Settlement events the organisation's log has not confirmed yet.</summary>
    public List<EventDraft> Events { get; set; } = [];

    /// <summary>
    /// Forgets the steps of batches reported completed (<see cref="BatchOpenStep.CompletedBatches"/>), which nothing retries
    /// any more, and keeps their ids (<see cref="CompletedBatches"/>) to refuse a step of theirs that still arrives.
    /// </summary>
    public void ForgetCompletedBatches(IReadOnlyList<Guid>? completed, int capacity)
    {
        foreach (var batchId in completed ?? [])
        {
            var stepKey = batchId.ToString("D");
            Steps.Forget(stepKey);
            CompletedBatches.Remember(stepKey, true, capacity);
        }
    }
}

/// <summary>
/// A subscriber account (key <c>acct:{organisation}:{address}</c>). Holds collateral, sizes each batch trade
/// from its own balance (domain <see cref="TradeSizing"/>), and applies its positions' settlements.
/// </summary>
[GrainType("subscriber")]
public sealed class SubscriberGrain(
    [PersistentState(StorageNames.Account, StorageNames.Provider)] IPersistentState<SubscriberState> state,
    IOptions<EventOptions> eventOptions,
    IOptions<RetryOptions> retries,
    IEventPublisher publisher,
    TimeProvider clock) : Grain, ISubscriberGrain, IRemindable
{
    // Bounds of the idempotency memories. A batch step or a settlement is retried within minutes, long before
    // hundreds of newer ones arrive; a deposit id is a client's retry key and is kept longer.
    public const int RememberedDeposits = 1024;
    public const int RememberedSteps = 512;
    public const int RememberedSettlements = 1024;

    // A step of a completed batch is forgotten once a later batch reports it; these guard against one arriving late.
    public const int RememberedCompletedBatches = 64;

    private EventOutbox? _events;

    private SubscriberState S => state.State;
    private (string Organization, string Address) Key => GrainKeys.ParseAccount(this.GetPrimaryKeyString());
    private EventOutbox Events => _events ??= new EventOutbox(this, () => S.Events, e => S.Events = e, publisher, eventOptions.Value, retries.Value);

    /// <summary>Messages still outstanding are re-sent by a reminder once this activation is gone.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await Events.OnDeactivateAsync(cancellationToken);
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Events.Publish();
        return Task.CompletedTask;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == EventOutbox.ReminderName) await Events.OnReminderAsync();
    }

    public async Task<AccountView> CreateAsync()
    {
        if (!S.Exists)
        {
            S.Exists = true;
            await state.WriteStateAsync();
        }
        return View();
    }

    public Task<AccountView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    public async Task<Result<AccountView>> DepositAsync(string depositId, decimal amountUsdc)
    {
        if (!S.Exists) return Result<AccountView>.Fail(Errors.AccountNotFound, $"Account {Key.Address} does not exist.");
        if (S.Deposits.TryGet(depositId, out var credited))
            return credited == amountUsdc
                ? Result<AccountView>.Ok(View())
                : new Rejection(Errors.IdempotencyConflict, $"Deposit {depositId} was already credited with {credited} USDC, not {amountUsdc}.")
                    .With("creditedUsdc", credited);
        if (Money.CheckDeposit(amountUsdc, S.FreeUsdc + S.LockedUsdc) is { } refused) return refused;
        S.FreeUsdc += amountUsdc;
        S.DepositedUsdc += amountUsdc;
        S.Deposits.Remember(depositId, amountUsdc, RememberedDeposits);
        await state.WriteStateAsync();
        return Result<AccountView>.Ok(View());
    }

    public async Task<BatchStepOutcome> OpenFromBatchAsync(BatchOpenStep batchStep)
    {
        var step = batchStep;
        var stepKey = step.BatchId.ToString("D");
        if (S.Steps.TryGet(stepKey, out var done)) return done;
        if (S.CompletedBatches.Contains(stepKey)) return Failed(BatchCompleted(step.BatchId));
        if (!S.Exists) return Failed(new Rejection(Errors.AccountNotFound, $"Account {Key.Address} does not exist."));
        // Stored with this step's record: every path below records it.
        S.ForgetCompletedBatches(step.CompletedBatches, RememberedCompletedBatches);
        // The account, not the agent's subscriber pages, says whom it follows: a page still listing it after an unfollow
        // that failed half-way never makes it trade. (A repeated step may have opened before the unfollow: the position decides.)
        if (!S.Subscriptions.ContainsKey(step.AgentId))
        {
            var notFollowing = new Rejection(Errors.NotSubscribed, $"Account {Key.Address} does not follow agent {step.AgentId}.");
            return step.MayRepeat ? await ConcludeBatchStepAsync(step, notFollowing) : await RecordAsync(stepKey, Failed(notFollowing));
        }

        // Sized from the current balance. Nothing is stored before the position answers: the position is
        // idempotent on the open id, so if this activation dies in between, the resumed batch sizes again,
        // gets the same position back, and records it once (one write per step instead of two).
        var sized = TradeSizing.Size(S.FreeUsdc, step.Weight, step.Leverage, step.Fees, step.FeeCaps);
        // A repeated step may have opened its position before its answer was lost, sized from the balance as it was then;
        // a refusal now says only that today's balance would not size it, so the position decides, as when a batch gives up.
        if (!sized.IsSuccess) return step.MayRepeat ? await ConcludeBatchStepAsync(step, sized.Rejection!) : await RecordAsync(stepKey, Failed(sized.Rejection!));
        var trade = sized.Value!;

        var positionKey = GrainKeys.Position(step.AgentId, Key.Address, step.Symbol);
        var opened = await GrainFactory.GetGrain<IPositionGrain>(positionKey).OpenForBatchAsync(new OpenPositionCommand(
            OpenId: BatchCommandIds.For(step.BatchId), step.BatchId, Key.Organization, SettleToAccount: this.GetPrimaryKeyString(), step.Side,
            trade.CollateralUsdc, trade.Fees, step.Leverage, step.ReferencePrice, step.TokenDecimals, step.TokenAddress, step.TriggerPrice,
            step.StopLossPrice, step.TakeProfitPrice, step.TrailingStopPercentage, Exits: [], MinTokenOut: 0,
            MaxSlippageBps: Domain.Intents.IntentAdmission.MaxSlippageBps, Authorization: null, AgentType: step.AgentType,
            CompletedBatches: step.CompletedBatches));
        if (!opened.IsSuccess) return await RecordAsync(stepKey, Failed(opened.Problem!)); // nothing was traded: nothing is charged
        return await LockAndRecordAsync(stepKey, positionKey, opened.Value!);
    }

    public async Task<BatchStepOutcome> ConcludeBatchStepAsync(BatchOpenStep batchStep, Rejection refusal)
    {
        var stepKey = batchStep.BatchId.ToString("D");
        if (S.Steps.TryGet(stepKey, out var done)) return done;
        if (S.CompletedBatches.Contains(stepKey)) return Failed(BatchCompleted(batchStep.BatchId));
        // The position decides: an attempt whose answer was lost (this account's write failed after the position opened,
        // say) may have opened it. Asked this way, the position also refuses that open for good if it has not happened.
        var positionKey = GrainKeys.Position(batchStep.AgentId, Key.Address, batchStep.Symbol);
        var concluded = await GrainFactory.GetGrain<IPositionGrain>(positionKey).ConcludeOpenAsync(BatchCommandIds.For(batchStep.BatchId), refusal);
        return concluded.IsSuccess
            ? await LockAndRecordAsync(stepKey, positionKey, concluded.Value!)
            : await RecordAsync(stepKey, Failed(concluded.Problem!));
    }

    private async Task<BatchStepOutcome> LockAndRecordAsync(string stepKey, string positionKey, OpenReceipt position)
    {
        // The position's own margin is what is locked: on a replay after a crash it is the margin of the first
        // attempt, even if the balance (and so this attempt's sizing) changed in between.
        var fees = position.Fees.Sum(f => f.AmountUsdc);
        S.FreeUsdc -= position.MarginUsdc + fees;
        S.LockedUsdc += position.MarginUsdc;
        S.FeesPaidUsdc += fees;
        S.OpenPositions.Add(positionKey);
        S.OpenPositionIds[positionKey] = position.PositionId;
        return await RecordAsync(stepKey, new BatchStepOutcome(Key.Address, true, position.PositionId, position.Status == PositionStatus.Pending,
            position.MarginUsdc, position.Fees, position.OpenTransaction, null));
    }

    public async Task SettleAsync(Settlement settlement)
    {
        IReadOnlyList<FeeCharge> ledgerRefunds = settlement.LedgerRefundedByBatch ? [] : settlement.RefundedFees ?? [];
        if (!S.Settlements.TryGet(settlement.SettlementId, out var done))
        {
            var refunded = settlement.RefundedFees?.Sum(f => f.AmountUsdc) ?? 0m;
            S.LockedUsdc -= settlement.ReleasedMarginUsdc;
            S.FreeUsdc += settlement.PayoutUsdc + refunded;
            S.FeesPaidUsdc -= refunded;
            S.RealizedPnlUsdc += settlement.RealizedPnlUsdc;
            if (settlement.Closed && (!S.OpenPositionIds.TryGetValue(settlement.PositionKey, out var live) || live == settlement.PositionId))
            {
                S.OpenPositions.Remove(settlement.PositionKey);
                S.OpenPositionIds.Remove(settlement.PositionKey);
            }
            S.Settlements.Remember(settlement.SettlementId, done = ledgerRefunds.Count == 0, RememberedSettlements);
            var (agentId, _, symbol) = GrainKeys.ParsePosition(settlement.PositionKey);
            Events.Add(EventDrafts.Create(Key.Organization, $"settle:{settlement.SettlementId}", EventTypes.PositionSettled, agentId, Key.Address, symbol,
                clock.GetUtcNow(), new SettlementEventData(settlement.SettlementId, settlement.PositionId, "account", settlement.ReleasedMarginUsdc,
                    settlement.PayoutUsdc, settlement.RealizedPnlUsdc, settlement.Closed, S.FreeUsdc, S.LockedUsdc, null, refunded)));
            await state.WriteStateAsync();
            Events.Publish();
        }
        // Fees handed back leave the fee addresses' ledgers too (unless the batch-close that cancelled the order takes them), before
        // the position hears the settlement went through. Once they have, this account says so, so that the copies the position
        // re-sends meanwhile (every few seconds while a busy ledger answers) never ask again; the ledger's own memory of refund
        // ids only has to cover a crash between its answer and this write.
        if (!done)
        {
            foreach (var byAddress in ledgerRefunds.GroupBy(f => f.FeeAddress))
                await GrainFactory.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(Key.Organization, byAddress.Key))
                    .RefundAsync($"refund:{settlement.SettlementId}", byAddress.ToArray(), byBatch: false);
            S.Settlements.Remember(settlement.SettlementId, true, RememberedSettlements);
            await state.WriteStateAsync();
        }
        // The position keeps re-sending until it hears this; it never waits on an account, so no call cycle forms.
        await GrainFactory.GetGrain<IPositionGrain>(settlement.PositionKey).ConfirmSettlementAsync(settlement.SettlementId);
    }

    public Task<int?> GetSubscriptionPageAsync(Guid agentId) =>
        Task.FromResult(S.Subscriptions.TryGetValue(agentId, out var page) ? page : (int?)null);

    public async Task AddSubscriptionAsync(Guid agentId, int page)
    {
        if (S.Subscriptions.TryGetValue(agentId, out var existing) && existing == page) return;
        S.Subscriptions[agentId] = page;
        await state.WriteStateAsync();
    }

    public async Task<int?> RemoveSubscriptionAsync(Guid agentId)
    {
        if (!S.Subscriptions.Remove(agentId, out var page)) return null;
        await state.WriteStateAsync();
        return page;
    }

    private async Task<BatchStepOutcome> RecordAsync(string stepKey, BatchStepOutcome outcome)
    {
        S.Steps.Remember(stepKey, outcome, RememberedSteps);
        await state.WriteStateAsync();
        return outcome;
    }

    private static Rejection BatchCompleted(Guid batchId) =>
        new(Errors.BatchCompleted, $"Batch {batchId} has completed; its steps are not carried out any more.");

    private BatchStepOutcome Failed(Rejection problem) => new(Key.Address, false, null, false, 0m, [], null, problem);

    private AccountView View() => new(Key.Address, Key.Organization, S.FreeUsdc, S.LockedUsdc, S.DepositedUsdc, S.FeesPaidUsdc, S.RealizedPnlUsdc,
        S.Subscriptions.Keys.ToArray(), S.OpenPositions.ToArray());
}
