using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Sizing;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Accounts;

public sealed class SubscriberState
{
    public bool Exists { get; set; }
    public decimal FreeUsdc { get; set; }
    public decimal LockedUsdc { get; set; }
    public decimal DepositedUsdc { get; set; }
    public decimal FeesPaidUsdc { get; set; }
    public decimal RealizedPnlUsdc { get; set; }
    public HashSet<string> DepositIds { get; set; } = [];
    public Dictionary<Guid, int> Subscriptions { get; set; } = [];
    public HashSet<string> OpenPositions { get; set; } = [];

    /// <summary>Batch steps by batch id, newest last; trimmed to the most recent <see cref="SubscriberGrain.RememberedSteps"/>.</summary>
    public Dictionary<Guid, BatchStepRecord> Steps { get; set; } = [];

    /// <summary>Settlement ids already applied, newest last, so a re-sent settlement pays nothing twice.</summary>
    public List<string> AppliedSettlements { get; set; } = [];
}

/// <summary>A finished batch step: what it locked and charged, and its outcome.</summary>
public sealed class BatchStepRecord
{
    public decimal CollateralUsdc { get; set; }
    public List<FeeChargeMessage> Fees { get; set; } = [];
    public BatchStepOutcome? Outcome { get; set; }
    public DateTimeOffset StartedAt { get; set; }
}

[GrainType("subscriber")]
public sealed class SubscriberGrain(
    [PersistentState(StorageNames.Account, StorageNames.Provider)] IPersistentState<SubscriberState> state,
    TimeProvider clock) : Grain, ISubscriberGrain
{
    public const int RememberedSteps = 512;
    public const int RememberedSettlements = 1024;

    private SubscriberState S => state.State;
    private string Address => this.GetPrimaryKeyString()["acct:".Length..];

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
        if (!S.Exists) return Result<AccountView>.Fail("account_not_found", $"Account {Address} does not exist.");
        if (amountUsdc <= 0) return Result<AccountView>.Fail("invalid_amount", "A deposit must be positive.");
        if (Domain.Common.Money.SignificantScale(amountUsdc) > Domain.Common.Money.UsdcDecimals)
            return Result<AccountView>.Fail("invalid_amount", "USDC has 6 decimal places; the amount has more.");
        if (!S.DepositIds.Add(depositId)) return Result<AccountView>.Ok(View());
        S.FreeUsdc += amountUsdc;
        S.DepositedUsdc += amountUsdc;
        await state.WriteStateAsync();
        return Result<AccountView>.Ok(View());
    }

    public async Task<BatchStepOutcome> OpenFromBatchAsync(BatchOpenStep step)
    {
        if (S.Steps.TryGetValue(step.BatchId, out var remembered) && remembered.Outcome is { } done) return done;
        if (!S.Exists) return Failed(new Problem("account_not_found", $"Account {Address} does not exist."));

        // Sized from the current balance. Nothing is stored before the position answers: the position is
        // idempotent on the open id, so if this activation dies in between, the resumed batch sizes again,
        // gets the same position back, and records it once (one write per step instead of two).
        var sized = TradeSizing.Size(S.FreeUsdc, step.Weight, step.Leverage, step.Fees.Select(f => f.ToDomain()).ToList());
        if (!sized.IsSuccess)
        {
            var failure = Failed(sized.Rejection!.ToProblem());
            Remember(step.BatchId, new BatchStepRecord { Outcome = failure, StartedAt = clock.GetUtcNow() });
            await state.WriteStateAsync();
            return failure;
        }
        var trade = sized.Value!;
        var record = new BatchStepRecord
        {
            CollateralUsdc = trade.CollateralUsdc,
            Fees = trade.Fees.Select(f => f.ToContract()).ToList(),
            StartedAt = clock.GetUtcNow(),
        };

        var positionKey = GrainKeys.Position(step.AgentId, Address, step.Symbol);
        var opened = await GrainFactory.GetGrain<IPositionGrain>(positionKey).OpenAsync(new OpenPositionCommand(
            OpenId: $"batch:{step.BatchId:D}", step.BatchId, step.Side, record.CollateralUsdc, step.Leverage, step.ReferencePrice,
            step.TokenDecimals, TokenAddress: null, step.TriggerPrice, step.StopLossPrice, step.TakeProfitPrice,
            step.TrailingStopPercentage, Exits: [], MinTokenOut: 0, MaxSlippageBps: 10_000));

        BatchStepOutcome outcome;
        if (opened.IsSuccess)
        {
            var position = opened.Value!;
            // The position's own margin is what is locked: on a replay after a crash it is the margin of the
            // first attempt, even if the balance (and so this attempt's sizing) changed in between.
            record.CollateralUsdc = position.MarginUsdc;
            var fees = record.Fees.Sum(f => f.AmountUsdc);
            S.FreeUsdc -= record.CollateralUsdc + fees;
            S.LockedUsdc += record.CollateralUsdc;
            S.FeesPaidUsdc += fees;
            S.OpenPositions.Add(positionKey);
            outcome = new BatchStepOutcome(Address, true, position.PositionId, position.Status == PositionStatus.Pending,
                record.CollateralUsdc, record.Fees, position.OpenTransaction, null);
        }
        else
        {
            outcome = Failed(opened.Problem!); // nothing was traded: nothing is charged
        }
        record.Outcome = outcome;
        Remember(step.BatchId, record);
        await state.WriteStateAsync();
        return outcome;
    }

    public async Task SettleAsync(Settlement settlement)
    {
        if (!S.AppliedSettlements.Contains(settlement.SettlementId))
        {
            S.LockedUsdc -= settlement.ReleasedMarginUsdc;
            S.FreeUsdc += settlement.PayoutUsdc;
            S.RealizedPnlUsdc += settlement.RealizedPnlUsdc;
            if (settlement.Closed) S.OpenPositions.Remove(settlement.PositionKey);
            S.AppliedSettlements.Add(settlement.SettlementId);
            if (S.AppliedSettlements.Count > RememberedSettlements) S.AppliedSettlements.RemoveAt(0);
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

    private void Remember(Guid batchId, BatchStepRecord record)
    {
        S.Steps[batchId] = record;
        if (S.Steps.Count <= RememberedSteps) return;
        var oldest = S.Steps.Where(s => s.Value.Outcome is not null).OrderBy(s => s.Value.StartedAt).First().Key;
        S.Steps.Remove(oldest);
    }

    private BatchStepOutcome Failed(Problem problem) => new(Address, false, null, false, 0m, [], null, problem);

    private AccountView View() => new(Address, S.FreeUsdc, S.LockedUsdc, S.DepositedUsdc, S.FeesPaidUsdc, S.RealizedPnlUsdc,
        S.Subscriptions.Keys.ToArray(), S.OpenPositions.ToArray());
}
