using System.Diagnostics;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Positions;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Venues;

namespace AgentDesk.Grains.Positions;

public sealed class PositionGrainState
{
    public PositionLifecycle? Current { get; set; }
    public List<PositionLifecycle> History { get; set; } = [];

    /// <summary>Close and reduce commands already carried out, so a repeat answers the same without trading again.</summary>
    public Dictionary<string, CloseOutcome> Closes { get; set; } = [];

    /// <summary>Add and exit-update commands already carried out.</summary>
    public Dictionary<string, PositionSnapshot> Changes { get; set; } = [];

    /// <summary>Settlements the account has not confirmed yet; re-sent until it does.</summary>
    public List<Settlement> Unsettled { get; set; } = [];
}

/// <summary>
/// The position for one (agent, account, token). Thin: the domain decides sizes, exits and P/L; this grain
/// loads state, asks the venue to fill, stores the result once, and then tells the account and the exit index.
/// It never waits on an account (settlements are one-way and confirmed back), so no call cycle can form.
/// </summary>
// Placed where the caller runs: the account step that opens it, so a fan-out does not scatter positions across silos.
[Orleans.Placement.PreferLocalPlacement]
[GrainType("position")]
public sealed class PositionGrain(
    [PersistentState(StorageNames.Position, StorageNames.Provider)] IPersistentState<PositionGrainState> state,
    IExecutionVenue venue,
    TimeProvider clock) : Grain, IPositionGrain, IRemindable
{
    private const string SettlementReminder = "settle";
    private const int RememberedCloses = 64;

    private WatchEnvelope? _registered;
    private IGrainTimer? _settlementTimer;
    private bool _settlementReminderRegistered;

    private PositionGrainState S => state.State;
    private (Guid AgentId, string Account, string Symbol) Key => GrainKeys.ParsePosition(this.GetPrimaryKeyString());

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The exit index is durable, but re-registering on activation heals a registration lost in a crash.
        await SyncWatchAsync();
        if (S.Unsettled.Count > 0) SendSettlements();
    }

    public async Task<Result<PositionSnapshot>> OpenAsync(OpenPositionCommand command)
    {
        var previous = S.Current?.OpenId == command.OpenId ? S.Current : S.History.FirstOrDefault(h => h.OpenId == command.OpenId);
        if (previous is not null) return Result<PositionSnapshot>.Ok(Snapshot(previous));
        if (S.Current is { IsLive: true } live)
            return Result<PositionSnapshot>.Fail(new Problem("position_already_open",
                $"Agent {Key.AgentId} already has a {(live.Status == PositionStatus.Pending ? "pending order" : "position")} on {Key.Symbol} for {Key.Account}; use add or reduce.",
                new Dictionary<string, string> { ["positionId"] = live.PositionId }));

        var side = command.Side.ToDomain();
        var ladder = command.Exits.ToDomain();
        if (!ladder.IsSuccess) return Result<PositionSnapshot>.Fail(ladder.Rejection!.ToProblem());
        if (ladder.Value!.Length > 0 && ExitLadder.Validate(ladder.Value, ExitBounds.Unbounded) is { } badLadder)
            return Result<PositionSnapshot>.Fail(badLadder.ToProblem());
        var reference = command.TriggerPrice > 0 ? command.TriggerPrice : command.ReferencePrice;
        var absolute = AbsoluteExits.Build(side, reference, command.StopLossPrice, command.TakeProfitPrice, command.TrailingStopPercentage);
        if (!absolute.IsSuccess) return Result<PositionSnapshot>.Fail(absolute.Rejection!.ToProblem());

        var now = clock.GetUtcNow();
        var lifecycle = new PositionLifecycle
        {
            PositionId = NewPositionId(command.OpenId),
            OpenId = command.OpenId,
            BatchId = command.BatchId,
            Side = command.Side,
            Leverage = command.Leverage,
            TokenDecimals = command.TokenDecimals,
            TokenAddress = command.TokenAddress,
            CollateralUsdc = command.CollateralUsdc,
            SettleTo = command.SettleTo,
            Plan = absolute.Value! with { Ladder = ExitPlan.FromLadder(ladder.Value).Ladder },
            CreatedAt = now,
            UpdatedAt = now,
        };

        if (command.TriggerPrice > 0)
        {
            var order = TriggerOrder.Place(command.TriggerPrice, command.ReferencePrice);
            if (!order.IsSuccess) return Result<PositionSnapshot>.Fail(order.Rejection!.ToProblem());
            lifecycle.Order = order.Value;
            lifecycle.Status = PositionStatus.Pending;
        }
        else
        {
            var filled = await venue.OpenAsync(new OpenOrder(lifecycle.PositionId, Key.Symbol, side, command.CollateralUsdc, command.Leverage,
                command.ReferencePrice, command.TokenDecimals, command.MinTokenOut, command.MaxSlippageBps));
            if (!filled.IsSuccess) return Result<PositionSnapshot>.Fail(filled.Rejection!.ToProblem());
            Fill(lifecycle, filled.Value!);
        }

        if (S.Current is not null) S.History.Add(S.Current);
        S.Current = lifecycle;
        await state.WriteStateAsync();
        await SyncWatchAsync();
        return Result<PositionSnapshot>.Ok(Snapshot(lifecycle));
    }

    public async Task<Result<CloseOutcome>> CloseAsync(ClosePositionCommand command)
    {
        if (S.Closes.TryGetValue(command.CloseId, out var done)) return Result<CloseOutcome>.Ok(done);
        var current = S.Current;
        if (current is not { IsLive: true }
            || (command.OnlyIfOpenedByBatch is { } batch && current.BatchId != batch)
            || (command.OnlyPositionId is { } id && current.PositionId != id))
            return Result<CloseOutcome>.Ok(new CloseOutcome(true, "Skipped closed trade", current is null ? null : Snapshot(current), 0m, 0m, null));

        CloseOutcome outcome;
        if (current.Status == PositionStatus.Pending)
        {
            current.Status = PositionStatus.Cancelled;
            current.CloseReason = command.Reason;
            current.UpdatedAt = clock.GetUtcNow();
            Queue(current, current.CollateralUsdc, current.CollateralUsdc, 0m, closed: true);
            outcome = new CloseOutcome(false, "Order cancelled", Snapshot(current), 0m, 0m, null);
        }
        else
        {
            var position = current.Position!;
            var filled = await venue.CloseAsync(new CloseOrder($"{current.PositionId}:close:{command.CloseId}", Key.Symbol, position.Side,
                position.Size, command.ReferencePrice, 0m, 10_000));
            if (!filled.IsSuccess) return Result<CloseOutcome>.Fail(filled.Rejection!.ToProblem());
            var fill = filled.Value!;
            var reduction = PositionMath.Close(position, fill.Price).Unwrap();
            var tx = Transaction(fill);
            Apply(current, reduction, fill.Price, tx, command.Reason, ladderIndex: null);
            outcome = new CloseOutcome(false, null, Snapshot(current), reduction.RealizedPnlUsdc, fill.Price, tx);
        }

        S.Closes[command.CloseId] = outcome;
        if (S.Closes.Count > RememberedCloses) S.Closes.Remove(S.Closes.Keys.First());
        await state.WriteStateAsync();
        SendSettlements();
        await SyncWatchAsync();
        return Result<CloseOutcome>.Ok(outcome);
    }

    public async Task<Result<PositionSnapshot>> AddAsync(AddToPositionCommand command)
    {
        if (S.Changes.TryGetValue(command.CommandId, out var done)) return Result<PositionSnapshot>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<PositionSnapshot>();
        var position = current.Position!;
        var filled = await venue.OpenAsync(new OpenOrder($"{current.PositionId}:add:{command.CommandId}", Key.Symbol, position.Side, command.CollateralUsdc,
            position.Leverage, command.ReferencePrice, position.SizeDecimals, command.MinTokenOut, command.MaxSlippageBps));
        if (!filled.IsSuccess) return Result<PositionSnapshot>.Fail(filled.Rejection!.ToProblem());
        var added = PositionMath.Add(position, command.CollateralUsdc, filled.Value!.Price);
        if (!added.IsSuccess) return Result<PositionSnapshot>.Fail(added.Rejection!.ToProblem());
        current.Position = added.Value;
        current.OriginalSize += added.Value!.Size - position.Size;
        current.CollateralUsdc += command.CollateralUsdc;
        current.UpdatedAt = clock.GetUtcNow();
        return await RememberChangeAsync(command.CommandId, current);
    }

    public async Task<Result<CloseOutcome>> ReduceAsync(ReducePositionCommand command)
    {
        if (S.Closes.TryGetValue(command.CommandId, out var done)) return Result<CloseOutcome>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<CloseOutcome>();
        var position = current.Position!;
        if (command.TokenAmount <= 0 || command.TokenAmount > position.Size)
            return Result<CloseOutcome>.Fail(new Problem("insufficient_position_size",
                $"Cannot sell {command.TokenAmount}; the position holds {position.Size}.", new Dictionary<string, string> { ["size"] = position.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
        var filled = await venue.CloseAsync(new CloseOrder($"{current.PositionId}:reduce:{command.CommandId}", Key.Symbol, position.Side,
            command.TokenAmount, command.ReferencePrice, command.MinUsdcOut, command.MaxSlippageBps));
        if (!filled.IsSuccess) return Result<CloseOutcome>.Fail(filled.Rejection!.ToProblem());
        var fill = filled.Value!;
        var reduction = PositionMath.Reduce(position, command.TokenAmount, fill.Price).Unwrap();
        var tx = Transaction(fill);
        Apply(current, reduction, fill.Price, tx, reduction.Closed ? "reduce_close" : "reduce", ladderIndex: null);
        current.UpdatedAt = clock.GetUtcNow();
        var outcome = new CloseOutcome(false, null, Snapshot(current), reduction.RealizedPnlUsdc, fill.Price, tx);
        S.Closes[command.CommandId] = outcome;
        if (S.Closes.Count > RememberedCloses) S.Closes.Remove(S.Closes.Keys.First());
        await state.WriteStateAsync();
        SendSettlements();
        await SyncWatchAsync();
        return Result<CloseOutcome>.Ok(outcome);
    }

    public async Task<Result<PositionSnapshot>> UpdateExitsAsync(UpdateExitsCommand command)
    {
        if (S.Changes.TryGetValue(command.CommandId, out var done)) return Result<PositionSnapshot>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<PositionSnapshot>();
        var ladder = command.Exits.ToDomain();
        if (!ladder.IsSuccess) return Result<PositionSnapshot>.Fail(ladder.Rejection!.ToProblem());
        if (ExitLadder.Validate(ladder.Value!, ExitBounds.Unbounded) is { } bad) return Result<PositionSnapshot>.Fail(bad.ToProblem());
        current.Plan = current.Plan.WithLadder(ladder.Value!);
        current.UpdatedAt = clock.GetUtcNow();
        return await RememberChangeAsync(command.CommandId, current);
    }

    private async Task<Result<PositionSnapshot>> RememberChangeAsync(string commandId, PositionLifecycle current)
    {
        var snapshot = Snapshot(current);
        S.Changes[commandId] = snapshot;
        if (S.Changes.Count > RememberedCloses) S.Changes.Remove(S.Changes.Keys.First());
        await state.WriteStateAsync();
        await SyncWatchAsync();
        return Result<PositionSnapshot>.Ok(snapshot);
    }

    private Result<T> NotOpen<T>() => Result<T>.Fail("position_not_found",
        $"There is no open position on {Key.Symbol} for {Key.Account} under agent {Key.AgentId}.");

    public async Task OnPriceAsync(PriceTick tick)
    {
        var current = S.Current;
        if (current is not { IsLive: true })
        {
            // A stale index entry (e.g. left by a crash): remove it so ticks stop coming.
            await WatchPageGrain().UnwatchAsync(this.GetPrimaryKeyString());
            return;
        }

        var changed = current.Status == PositionStatus.Pending ? await FillOrderAsync(current, tick) : await EvaluateExitsAsync(current, tick);
        if (changed)
        {
            current.UpdatedAt = clock.GetUtcNow();
            await state.WriteStateAsync();
            SendSettlements();
        }
        await SyncWatchAsync();
    }

    public async Task ConfirmSettlementAsync(string settlementId)
    {
        if (S.Unsettled.RemoveAll(s => s.SettlementId == settlementId) == 0) return;
        await state.WriteStateAsync();
        if (S.Unsettled.Count == 0)
        {
            _settlementTimer?.Dispose();
            _settlementTimer = null;
            // Only this activation's own reminder is looked up here (a lookup is a storage read); one left by an
            // earlier activation removes itself when it next fires with nothing to re-send.
            if (_settlementReminderRegistered)
            {
                var reminder = await this.GetReminder(SettlementReminder);
                if (reminder is not null) await this.UnregisterReminder(reminder);
                _settlementReminderRegistered = false;
            }
        }
    }

    public Task<PositionSnapshot?> GetAsync() => Task.FromResult(S.Current is null ? null : Snapshot(S.Current));

    public Task<IReadOnlyList<PositionSnapshot>> GetHistoryAsync() =>
        Task.FromResult<IReadOnlyList<PositionSnapshot>>(S.History.Append(S.Current).OfType<PositionLifecycle>().Select(Snapshot).ToArray());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != SettlementReminder) return;
        if (S.Unsettled.Count > 0)
        {
            SendSettlements();
            return;
        }
        var reminder = await this.GetReminder(SettlementReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
    }

    private async Task<bool> FillOrderAsync(PositionLifecycle current, PriceTick tick)
    {
        if (current.Order is not { } order || !order.IsReachedAt(tick.PriceUsd)) return false;
        var filled = await venue.OpenAsync(new OpenOrder(current.PositionId, Key.Symbol, current.Side.ToDomain(), current.CollateralUsdc,
            current.Leverage, tick.PriceUsd, current.TokenDecimals, 0m, 10_000));
        if (!filled.IsSuccess)
        {
            // The venue refused the triggered order: cancel it and hand the collateral back.
            current.Status = PositionStatus.Cancelled;
            current.CloseReason = "order_rejected:" + filled.Rejection!.Code;
            Queue(current, current.CollateralUsdc, current.CollateralUsdc, 0m, closed: true);
            return true;
        }
        Fill(current, filled.Value!);
        current.Order = null;
        return true;
    }

    private async Task<bool> EvaluateExitsAsync(PositionLifecycle current, PriceTick tick)
    {
        var position = current.Position!;
        var decision = ExitEvaluator.Evaluate(current.Plan, Subject(position), tick.PriceUsd);
        if (decision.Fills.Count == 0)
        {
            if (decision.Plan.Trailing == current.Plan.Trailing) return false;
            current.Plan = decision.Plan; // only the trailing extreme moved
            return true;
        }

        var total = decision.Fills.Sum(f => f.Size);
        var filled = await venue.CloseAsync(new CloseOrder($"{current.PositionId}:exit:{current.Exits.Count}", Key.Symbol, position.Side, total, tick.PriceUsd, 0m, 10_000));
        if (!filled.IsSuccess) return false; // level-based: the next tick tries again
        var fill = filled.Value!;
        var tx = Transaction(fill);
        current.Plan = decision.Plan;
        foreach (var exit in decision.Fills)
        {
            var reduction = PositionMath.Reduce(current.Position!, exit.Size, fill.Price).Unwrap();
            Apply(current, reduction, fill.Price, tx, ReasonName(exit.Reason), exit.LadderIndex);
        }
        AgentDeskMetrics.ExitsFired.Add(decision.Fills.Count);
        AgentDeskMetrics.TickToExit.Record((clock.GetUtcNow() - tick.At).TotalMilliseconds);
        return true;
    }

    private void Fill(PositionLifecycle lifecycle, VenueFill fill)
    {
        lifecycle.Position = new PositionState(lifecycle.Side.ToDomain(), fill.Size, fill.Price, lifecycle.Leverage, lifecycle.CollateralUsdc, 0m, lifecycle.TokenDecimals);
        lifecycle.OriginalSize = fill.Size;
        lifecycle.Status = PositionStatus.Open;
        lifecycle.OpenTransaction = Transaction(fill);
        if (lifecycle.Plan.Trailing is { } trailing)
            lifecycle.Plan = lifecycle.Plan with { Trailing = trailing with { ExtremePrice = fill.Price } };
    }

    private void Apply(PositionLifecycle lifecycle, Reduction reduction, decimal price, TransactionRef tx, string reason, int? ladderIndex)
    {
        lifecycle.Position = reduction.After;
        lifecycle.RealizedPnlUsdc += reduction.RealizedPnlUsdc;
        lifecycle.Exits.Add(new ExitEvent(reason, ladderIndex, reduction.SoldSize, price, reduction.RealizedPnlUsdc, tx));
        if (reduction.Closed)
        {
            lifecycle.Status = PositionStatus.Closed;
            lifecycle.CloseReason = reason;
            lifecycle.ExitPrice = price;
        }
        Queue(lifecycle, reduction.ReleasedMarginUsdc, reduction.PayoutUsdc, reduction.RealizedPnlUsdc, reduction.Closed);
    }

    private void Queue(PositionLifecycle lifecycle, decimal released, decimal payout, decimal pnl, bool closed) =>
        S.Unsettled.Add(new Settlement($"{lifecycle.PositionId}:{lifecycle.Exits.Count}:{S.Unsettled.Count}:{clock.GetUtcNow().UtcTicks}",
            this.GetPrimaryKeyString(), lifecycle.PositionId, released, payout, pnl, closed, lifecycle.SettleTo));

    private void SendSettlements()
    {
        if (S.Unsettled.Count == 0) return;
        var account = GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(Key.Account));
        var agent = GrainFactory.GetGrain<Contracts.Agents.IAgentGrain>(Key.AgentId);
        foreach (var settlement in S.Unsettled)
            _ = settlement.Target == SettlementTarget.AgentVault ? agent.SettleVaultPositionAsync(settlement) : account.SettleAsync(settlement);
        // Unconfirmed after a few seconds: keep re-sending, and survive deactivation with a reminder.
        _settlementTimer ??= this.RegisterGrainTimer(async () =>
        {
            if (S.Unsettled.Count == 0) return;
            await this.RegisterOrUpdateReminder(SettlementReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
            _settlementReminderRegistered = true;
            SendSettlements();
        }, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(15));
    }

    /// <summary>Tells the symbol's exit index where this position must next be looked at (or that it is done).</summary>
    /// <remarks>
    /// <see cref="_registered"/> is what this activation told the index. A position with nothing to watch that
    /// this activation never registered is not sent an unwatch: a stale entry is removed when its tick arrives.
    /// </remarks>
    private async Task SyncWatchAsync()
    {
        var envelope = CurrentEnvelope();
        if (envelope == _registered) return;
        if (envelope is null) await WatchPageGrain().UnwatchAsync(this.GetPrimaryKeyString());
        else await WatchPageGrain().WatchAsync(this.GetPrimaryKeyString(), envelope);
        _registered = envelope;
    }

    private IExitWatchGrain WatchPageGrain() =>
        GrainFactory.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(Key.Symbol, WatchPage.For(this.GetPrimaryKeyString())));

    private WatchEnvelope? CurrentEnvelope()
    {
        var current = S.Current;
        if (current is not { IsLive: true }) return null;
        var envelope = current.Status == PositionStatus.Pending
            ? ExitEnvelope.ForPending(current.Order!)
            : ExitEnvelope.ForOpen(current.Plan, Subject(current.Position!));
        // A position without exits has nothing the index could find: it is closed by hand or by batch-close.
        return envelope is { Lower: null, Upper: null } ? null : new WatchEnvelope(envelope.Lower, envelope.Upper);
    }

    private static ExitSubject Subject(PositionState p) => new(p.Side, p.EntryPrice, p.Leverage, p.Size, p.SizeDecimals);

    private static TransactionRef Transaction(VenueFill fill) => new(fill.TransactionId, fill.TransactionHash, fill.ExplorerUrl, fill.ChainId, fill.Simulated, fill.At);

    private static string ReasonName(ExitReason reason) => reason switch
    {
        ExitReason.LadderStopLoss => "ladder_stop_loss",
        ExitReason.LadderTakeProfit => "ladder_take_profit",
        ExitReason.StopLossPrice => "stop_loss",
        ExitReason.TakeProfitPrice => "take_profit",
        ExitReason.TrailingStop => "trailing_stop",
        _ => throw new UnreachableException(),
    };

    /// <summary>A UUID derived from the grain key and open id: stable across retries of the same open.</summary>
    private string NewPositionId(string openId)
    {
        var hash = Domain.Intents.Eip712Encoding.Keccak(System.Text.Encoding.UTF8.GetBytes(this.GetPrimaryKeyString() + "|" + openId));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5-style
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }

    private PositionSnapshot Snapshot(PositionLifecycle l)
    {
        var (agentId, account, symbol) = Key;
        var p = l.Position;
        return new PositionSnapshot(l.PositionId, this.GetPrimaryKeyString(), agentId, account, symbol, l.TokenAddress, l.Status, l.Side,
            p?.Size ?? 0m, l.OriginalSize, p?.EntryPrice ?? 0m, l.Leverage, p?.MarginUsdc ?? l.CollateralUsdc, l.RealizedPnlUsdc,
            l.Order?.TriggerPrice, l.Plan.StopLossPrice, l.Plan.TakeProfitPrice, l.Plan.Trailing?.Percentage, l.Plan.Trailing?.ExtremePrice,
            l.Plan.PendingRules.Select(r => r.ToContract()).ToArray(), l.Exits.ToArray(), l.BatchId, l.OpenTransaction, l.CreatedAt, l.UpdatedAt,
            l.CloseReason, l.ExitPrice);
    }
}

/// <summary>Which exit-watch page of its symbol a position lives on: a stable FNV-1a hash of its key.</summary>
public static class WatchPage
{
    public static int For(string positionKey)
    {
        var hash = 2166136261u;
        foreach (var c in positionKey)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return (int)(hash % IExitWatchGrain.PagesPerSymbol);
    }
}
