using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Idempotency;
using AgentDesk.Domain.Positions;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Prices;
using AgentDesk.Venues;
using Microsoft.Extensions.Logging;
using System.Text.Json.Serialization;

namespace AgentDesk.Grains.Positions;

public sealed class PositionGrainState
{
    public PositionLifecycle? Current { get; set; }

    // Each command's answer is remembered, so a retry answers the same without trading again. A position stays in storage
    // across many lifecycles, every activation reads all it remembers and every write stores it again, so what is kept is
    // what the caller reads (a receipt), not the whole position, and a batch's answers go once the batch has completed.
    // The intents' memories changed their names with their form (Intent…): rows stored before are read by the Older… properties.

    /// <summary>Opens of an agent's intents already carried out, by open id: a retried open answers the same.</summary>
    public HandledCommands<IntentReceipt> IntentOpens { get; set; } = new();

    /// <summary>Batch steps' opens already carried out, by open id.</summary>
    public HandledCommands<OpenReceipt> BatchOpens { get; set; } = new();

    /// <summary>Batch opens and closes their batch gave up on before they happened, by command id: they are refused for good.</summary>
    public HandledCommands<Rejection> Foreclosed { get; set; } = new();

    /// <summary>
    /// The command ids of the batches reported completed to this position, the last 64: their answers are forgotten, and
    /// an open or a close that still arrives for one (a message older than the completion, from an activation that outlived
    /// its silo) is refused rather than carried out, whether or not this position carried it out the first time. A
    /// command id with nothing after it, so far smaller than a receipt.
    /// </summary>
    public HandledCommands<bool> CompletedBatches { get; set; } = new();

    /// <summary>Close commands (a batch's, a user's) already carried out, by close id.</summary>
    public HandledCommands<CloseReceipt> CloseReceipts { get; set; } = new();

    /// <summary>Reduces of an agent's intents already carried out, by command id.</summary>
    public HandledCommands<IntentReceipt> IntentReductions { get; set; } = new();

    /// <summary>Add and exit-update commands of an agent's intents already carried out.</summary>
    public HandledCommands<IntentReceipt> IntentChanges { get; set; } = new();

    // Rows stored by older versions, read and moved into the memories above on activation (MoveOlderAnswers), never written.

    /// <summary>Before the batch receipts: every open's answer, batch steps' too, whole. Before the intents' receipts: intents' opens, whole.</summary>
    [JsonPropertyName("opens"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HandledCommands<PositionSnapshot>? OlderOpens { get; set; }

    /// <summary>Before the batch receipts: close and reduce answers together, whole.</summary>
    [JsonPropertyName("closes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HandledCommands<CloseOutcome>? OlderCloses { get; set; }

    /// <summary>Before the intents' receipts: reduce answers, whole.</summary>
    [JsonPropertyName("reductions"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HandledCommands<CloseOutcome>? OlderReductions { get; set; }

    /// <summary>Before the intents' receipts: add and exit-update answers, whole.</summary>
    [JsonPropertyName("changes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public HandledCommands<PositionSnapshot>? OlderChanges { get; set; }

    /// <summary>Settlements the account (or agent) has not confirmed yet; re-sent until it does.</summary>
    public List<Settlement> Unsettled { get; set; } = [];

    /// <summary>A command whose order was handed to a venue that leaves the cluster and whose outcome is not stored yet.</summary>
    public PendingCommand? Pending { get; set; }

    /// <summary>The sequence of the last price tick this position evaluated.</summary>
    public long LastTickSequence { get; set; }

    /// <summary>
    /// The lifecycle (position id) whose last evaluation fired an exit the venue refused, for which the exit-retry reminder
    /// is registered; null when none is. Kept here so that no tick has to read the reminder table to know, and named by
    /// lifecycle so that a retry armed for a position closed by hand never acts on the next one at the same key.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ExitRetryFor { get; set; }

    /// <summary>Events (fills, exits, cancellations) the organisation's log has not confirmed yet.</summary>
    public List<EventDraft> Events { get; set; } = [];

    /// <summary>
    /// Forgets the answers to the steps of batches that have completed (<see cref="OpenPositionCommand.CompletedBatches"/>):
    /// nothing retries them any more, and a command of theirs arriving late is refused (<see cref="CompletedBatches"/>).
    /// </summary>
    public void ForgetCompletedBatches(IReadOnlyList<Guid>? completed, int capacity)
    {
        foreach (var batchId in completed ?? [])
        {
            var commandId = BatchCommandIds.For(batchId);
            BatchOpens.Forget(commandId);
            CloseReceipts.Forget(commandId);
            CompletedBatches.Remember(commandId, true, capacity);
        }
    }

    /// <summary>
    /// Moves the answers an older row kept whole into the memories that now hold them, as receipts: a batch's opens (kept
    /// with the intents' opens before the batch receipts), closes, an intent's opens, reduces and changes. Each keeps its
    /// order. Idempotent, and a row written since has nothing to move. The row shrinks at the position's next write.
    /// </summary>
    public void MoveOlderAnswers(int batchCapacity, int intentCapacity)
    {
        // Runs on every activation (each exit activates its position): nothing is allocated when there is nothing to move.
        if (OlderOpens is not null)
        {
            foreach (var (openId, opened) in OlderOpens.Entries)
            {
                if (opened is null) continue;
                if (opened.BatchId is not null) BatchOpens.Remember(openId, OpenReceipt.Of(opened), batchCapacity);
                else IntentOpens.Remember(openId, IntentReceipt.Of(opened), intentCapacity);
            }
            OlderOpens = null;
        }
        if (OlderCloses is not null)
        {
            foreach (var (commandId, outcome) in OlderCloses.Entries)
            {
                if (outcome is null) continue;
                if (!IntentCommandIds.IsIntent(commandId)) CloseReceipts.Remember(commandId, CloseReceipt.Of(outcome), batchCapacity);
                else if (SaleReceipt(outcome) is { } sale) IntentReductions.Remember(commandId, sale, intentCapacity);
            }
            OlderCloses = null;
        }
        if (OlderReductions is not null)
        {
            foreach (var (commandId, outcome) in OlderReductions.Entries)
                if (outcome is not null && SaleReceipt(outcome) is { } sale) IntentReductions.Remember(commandId, sale, intentCapacity);
            OlderReductions = null;
        }
        if (OlderChanges is not null)
        {
            foreach (var (commandId, changed) in OlderChanges.Entries)
                if (changed is not null) IntentChanges.Remember(commandId, IntentReceipt.Of(changed), intentCapacity);
            OlderChanges = null;
        }
    }

    private static IntentReceipt? SaleReceipt(CloseOutcome outcome) => outcome.Position is { } position
        ? IntentReceipt.Of(position, outcome.Transaction, outcome.RealizedPnlUsdc, outcome.HistoricalSwapId)
        : null;
}

/// <summary>The command behind an order sent outside the cluster; replayed (reconciling first) after a crash.</summary>
public sealed class PendingCommand
{
    public OpenPositionCommand? Open { get; set; }
    public AddToPositionCommand? Add { get; set; }
    public ReducePositionCommand? Reduce { get; set; }
    public ClosePositionCommand? Close { get; set; }
    public UpdateExitsCommand? Update { get; set; }

    /// <summary>A price tick whose automatic exit (or trigger fill) was handed to the venue.</summary>
    public PriceTick? Tick { get; set; }

    /// <summary>Which command this is, to tell a replay of it from another command arriving while it is unfinished.</summary>
    [JsonIgnore]
    public string Id => Open?.OpenId ?? Add?.CommandId ?? Reduce?.CommandId ?? Close?.CloseId ?? Update?.CommandId
        ?? (Tick is { } tick ? TickId(tick) : "");

    public static string TickId(PriceTick tick) => $"tick:{tick.Sequence}";

    /// <summary>A batch-open or batch-close step: the batch grain resumes it after a crash (see BatchGrain).</summary>
    [JsonIgnore]
    public bool ReplayedByBatch => Open?.BatchId is not null || Close?.OnlyIfOpenedByBatch is not null;
}

/// <summary>
/// The position for one (agent, account, token). Thin: the domain decides sizes, exits and P/L; this grain
/// loads state, asks the venue to fill, stores the result once, and then tells the account and the exit index.
/// It never waits on an account (settlements go through an outbox and are confirmed back), so no call cycle forms.
/// </summary>
// Placed where the caller runs: the account step that opens it, so a fan-out does not scatter positions across silos.
[Orleans.Placement.PreferLocalPlacement]
// An open position lives in memory only while it is being traded. Between its open and its exit its envelope on the
// exit index (a few hundred bytes) is all a silo needs: the tick that reaches the envelope activates the position from
// storage. Idle for this long, it leaves memory; at a million open positions that is gigabytes per cluster.
[CollectionAgeLimit(Minutes = PositionIdleMinutes)]
[GrainType("position")]
public sealed class PositionGrain(
    [PersistentState(StorageNames.Position, StorageNames.Provider)] IPersistentState<PositionGrainState> state,
    ExecutionVenues venues,
    Microsoft.Extensions.Options.IOptions<Options.RetryOptions> retries,
    Microsoft.Extensions.Options.IOptions<Options.EventOptions> eventOptions,
    IEventPublisher publisher,
    TimeProvider clock,
    ILogger<PositionGrain> logger) : Grain, IPositionGrain, IRemindable
{
    /// <summary>Minutes without a call after which an activation is collected (Orleans' minimum is one).</summary>
    public const int PositionIdleMinutes = 5;

    // A batch's step is retried until the batch completes, however long that takes; later batches then say it has, and its
    // answer goes (ForgetCompletedBatches). This count bounds what no batch reports completed, and a user's closes.
    private const int RememberedCommands = 64;

    // An agent's intents run one at a time, and the agent remembers its own answers: it asks the position again only about
    // the one in flight when it died, so a handful is kept.
    private const int RememberedIntentCommands = 8;
    private const string PendingReminder = "pending-order";
    private const string ExitRetryReminder = "exit-retry";

    /// <summary>How soon after activation the position confirms its envelope with the exit index, if no call has by then.</summary>
    private static readonly TimeSpan WatchHealDelay = TimeSpan.FromSeconds(1);

    /// <summary>How soon a confirmation the exit index could not take is tried again.</summary>
    private static readonly TimeSpan WatchRetryDelay = TimeSpan.FromSeconds(5);

    /// <summary>The envelope the index holds for this position: told by this activation, or assumed from storage until then.</summary>
    private WatchEnvelope? _registered;

    /// <summary>Whether this activation has told the index its envelope (so <see cref="_registered"/> is no longer an assumption).</summary>
    private bool _watchConfirmed;
    private IGrainTimer? _watchHeal;
    private Outbox<Settlement>? _settlements;

    /// <summary>Exits the tick being handled filled; reported to the metrics after the write that stores them.</summary>
    private int _exitsFilled;

    /// <summary>Whether the evaluation being handled had an exit's sale refused (the lifecycle's refusal count and wait moved).</summary>
    private bool _saleRefused;

    /// <summary>Whether the evaluation being handled found an exit due that waits for its retry time, unsent.</summary>
    private bool _exitWaiting;
    private EventOutbox? _events;

    private PositionGrainState S => state.State;
    // Read once per activation: each read of the grain key builds new strings, and snapshots keep them.
    private string? _positionKey;
    private (Guid AgentId, string Account, string Symbol)? _key;

    private string PositionKey => _positionKey ??= this.GetPrimaryKeyString();
    private (Guid AgentId, string Account, string Symbol) Key => _key ??= GrainKeys.ParsePosition(PositionKey);

    private Outbox<Settlement> Settlements => _settlements ??= new Outbox<Settlement>(this, () => S.Unsettled, s => s.SettlementId, Send, "settle", retries.Value);

    private EventOutbox Events => _events ??= new EventOutbox(this, () => S.Events, e => S.Events = e, publisher, eventOptions.Value, retries.Value);

    /// <summary>Messages still outstanding are re-sent by a reminder once this activation is gone.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (S.Unsettled.Count > 0) await Settlements.OnDeactivateAsync(cancellationToken);
        if (S.Events.Count > 0) await Events.OnDeactivateAsync(cancellationToken);
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        S.MoveOlderAnswers(RememberedCommands, RememberedIntentCommands);
        // A position registers its envelope before its open or change answers, so the index holds the stored envelope
        // unless a crash came in between. This activation assumes it holds it and confirms that a moment later, unless a
        // call has told the index anyway: a tick that activates an idle position to exit it then costs one call to the
        // index (the unwatch), not two, and an index page that cannot answer never fails the activation.
        _registered = CurrentEnvelope();
        if (_registered is not null)
            _watchHeal = this.RegisterGrainTimer(HealWatchAsync, new GrainTimerCreationOptions(WatchHealDelay, WatchRetryDelay) { Interleave = false });
        // The outboxes are built only when they have something to send: most activations never need them.
        if (S.Unsettled.Count > 0) Settlements.SendAll();
        if (S.Events.Count > 0) Events.Publish();
        if (S.Pending is not null) await ReplayPendingAsync();
    }

    public Task<Result<IntentReceipt>> OpenAsync(OpenPositionCommand command)
    {
        if (command.BatchId is not null) throw new ArgumentException("A batch step opens with OpenForBatchAsync.", nameof(command));
        return OpenAsync(command, S.IntentOpens, lifecycle => Receipt(lifecycle), RememberedIntentCommands);
    }

    public Task<Result<OpenReceipt>> OpenForBatchAsync(OpenPositionCommand command)
    {
        if (command.BatchId is null) throw new ArgumentException("Only a batch step opens with OpenForBatchAsync.", nameof(command));
        // Made from the lifecycle, not from a snapshot of it (whose arrays only five fields would be kept from); the margin
        // is the snapshot's: the position's, or an order's collateral while it waits for its trigger.
        return OpenAsync(command, S.BatchOpens, lifecycle => new OpenReceipt(lifecycle.PositionId, lifecycle.Status,
            lifecycle.Position?.MarginUsdc ?? lifecycle.CollateralUsdc, lifecycle.Fees.ToArray(), lifecycle.OpenTransaction),
            RememberedCommands);
    }

    /// <summary>Opens, remembering in <paramref name="answered"/> the answer <paramref name="answer"/> makes of the new lifecycle.</summary>
    private async Task<Result<T>> OpenAsync<T>(OpenPositionCommand command, HandledCommands<T> answered, Func<PositionLifecycle, T> answer,
        int remembered)
    {
        if (Settled(command.OpenId, answered) is { } settled) return settled;
        await FinishOtherPendingAsync(command.OpenId);
        if (answered.TryGet(command.OpenId, out var done)) return Result<T>.Ok(done);
        S.ForgetCompletedBatches(command.CompletedBatches, RememberedCommands);
        if (S.Current is { IsLive: true } live)
            return new Rejection(Errors.PositionAlreadyOpen,
                    $"Agent {Key.AgentId} already has a {(live.Status == PositionStatus.Pending ? "pending order" : "position")} on {Key.Symbol} for {Key.Account}; use add or reduce.")
                .With("positionId", live.PositionId);
        if (command.Exits.Count > 0 && ExitLadder.Validate(command.Exits, ExitBounds.Unbounded) is { } badLadder) return badLadder;
        var reference = command.TriggerPrice > 0 ? command.TriggerPrice : command.ReferencePrice;
        var absolute = AbsoluteExits.Build(command.Side, reference, command.StopLossPrice, command.TakeProfitPrice, command.TrailingStopPercentage);
        if (!absolute.IsSuccess) return absolute.Rejection!;

        var now = clock.GetUtcNow();
        var lifecycle = new PositionLifecycle
        {
            PositionId = PositionIds.For(PositionKey, command.OpenId),
            OpenId = command.OpenId,
            Organization = command.Organization,
            BatchId = command.BatchId,
            Side = command.Side,
            Leverage = command.Leverage,
            TokenDecimals = command.TokenDecimals,
            TokenAddress = command.TokenAddress,
            SettleToAccount = command.SettleToAccount,
            CollateralUsdc = command.CollateralUsdc,
            Fees = command.Fees.ToList(),
            Authorization = command.Authorization,
            Venue = venues.Route(command.AgentType, signedIntent: command.Authorization is not null),
            Plan = absolute.Value! with { Ladder = ExitPlan.FromLadder(command.Exits).Ladder },
            CreatedAt = now,
            UpdatedAt = now,
        };

        if (command.TriggerPrice > 0)
        {
            var order = TriggerOrder.Place(command.TriggerPrice, command.ReferencePrice);
            if (!order.IsSuccess) return order.Rejection!;
            lifecycle.Order = order.Value;
            lifecycle.Status = PositionStatus.Pending;
        }
        else
        {
            var filled = await SendAsync(VenueOf(lifecycle), new PendingCommand { Open = command }, new OpenOrder(lifecycle.PositionId, Key.AgentId, Key.Account, Key.Symbol,
                command.TokenAddress, command.Side, command.TokenDecimals, command.CollateralUsdc, command.Leverage, command.ReferencePrice,
                command.MinTokenOut, command.MaxSlippageBps, command.Authorization));
            if (!filled.IsSuccess) return await RefusedAsync<T>(filled.Rejection!);
            Fill(lifecycle, filled.Value!);
            Events.Add(PositionEvents.Opened(PositionKey, lifecycle, triggered: false));
        }

        S.Current = lifecycle;
        S.Pending = null;
        var opened = answer(lifecycle);
        answered.Remember(command.OpenId, opened, remembered);
        await state.WriteStateAsync();
        Events.Publish();
        await SyncWatchAsync();
        return Result<T>.Ok(opened);
    }

    public Task<Result<OpenReceipt>> ConcludeOpenAsync(string openId, Rejection refusal) => ConcludeAsync(openId, S.BatchOpens,
        S.Pending?.Open is { BatchId: not null } pending && pending.OpenId == openId ? () => OpenForBatchAsync(pending) : null, refusal);

    public Task<Result<CloseReceipt>> ConcludeCloseAsync(string closeId, Rejection refusal) => ConcludeAsync(closeId, S.CloseReceipts,
        S.Pending?.Close is { } pending && pending.CloseId == closeId ? () => CloseAsync(pending) : null, refusal);

    /// <summary>
    /// Settles whether the batch command <paramref name="commandId"/> happened: its answer if it did. A command still
    /// pending at a venue outside the cluster (an order mined while its answer was lost) is finished first by
    /// <paramref name="replayPending"/>, which asks the venue before anything is decided; a venue that cannot answer
    /// throws, and the caller asks again later. Otherwise the id is foreclosed: it answers <paramref name="refusal"/> for good.
    /// </summary>
    private async Task<Result<T>> ConcludeAsync<T>(string commandId, HandledCommands<T> answered, Func<Task<Result<T>>>? replayPending,
        Rejection refusal)
    {
        if (Settled(commandId, answered) is { } settled) return settled;
        if (replayPending is not null && await replayPending() is { IsSuccess: true } replayed) return replayed;
        S.Foreclosed.Remember(commandId, refusal, RememberedCommands);
        await state.WriteStateAsync();
        return refusal;
    }

    /// <summary>
    /// What a command id is already settled as, or null when it is not: the answer remembered for it, the refusal it was
    /// foreclosed with, or batch_completed once its batch has been reported completed.
    /// </summary>
    private Result<T>? Settled<T>(string commandId, HandledCommands<T> answered)
    {
        if (answered.TryGet(commandId, out var done)) return Result<T>.Ok(done);
        if (S.Foreclosed.TryGet(commandId, out var foreclosed)) return foreclosed;
        if (S.CompletedBatches.Contains(commandId)) return BatchCompleted(commandId);
        return null;
    }

    public async Task<Result<CloseReceipt>> CloseAsync(ClosePositionCommand command)
    {
        if (Settled(command.CloseId, S.CloseReceipts) is { } settled) return settled;
        await FinishOtherPendingAsync(command.CloseId);
        if (S.CloseReceipts.TryGet(command.CloseId, out var done)) return Result<CloseReceipt>.Ok(done);
        S.ForgetCompletedBatches(command.CompletedBatches, RememberedCommands);
        var current = S.Current;
        if (current is not { IsLive: true }
            || (command.OnlyIfOpenedByBatch is { } batch && current.BatchId != batch)
            || (command.OnlyPositionId is { } id && current.PositionId != id))
            return Result<CloseReceipt>.Ok(new CloseReceipt(true, "Skipped closed trade", current?.PositionId, current?.Status, 0m, 0m, null, null));

        CloseReceipt outcome;
        if (current.Status == PositionStatus.Pending)
        {
            current.Status = PositionStatus.Cancelled;
            current.CloseReason = command.Reason;
            current.UpdatedAt = clock.GetUtcNow();
            // A batch-close takes the fees from the ledgers itself, for all its subscribers at once.
            var refunded = QueueCancelledOrderSettlement(current, ledgerRefundedByBatch: command.OnlyIfOpenedByBatch is not null);
            Events.Add(PositionEvents.Cancelled(PositionKey, current));
            outcome = new CloseReceipt(false, "Order cancelled", current.PositionId, current.Status, 0m, 0m, null, null, refunded);
        }
        else
        {
            var position = current.Position!;
            var filled = await SendAsync(VenueOf(current), new PendingCommand { Close = command }, CloseOrder(current, current.SaleOrderId($"close:{command.CloseId}"),
                position.Size, command.ReferencePrice, 0m, Domain.Intents.IntentAdmission.MaxSlippageBps, authorization: null));
            if (!filled.IsSuccess)
            {
                current.SaleRefused(filled.Rejection!);
                return await RefusedAsync<CloseReceipt>(filled.Rejection!);
            }
            var fill = filled.Value!;
            var reduction = PositionMath.Close(position, fill.Price);
            if (!reduction.IsSuccess) return await RefusedAsync<CloseReceipt>(reduction.Rejection!);
            var sale = Apply(current, reduction.Value!, fill, command.Reason, ladderIndex: null);
            outcome = new CloseReceipt(false, null, current.PositionId, current.Status, reduction.Value!.RealizedPnlUsdc, fill.Price, sale.Transaction,
                sale.HistoricalSwapId);
        }

        S.Pending = null;
        S.CloseReceipts.Remember(command.CloseId, outcome, RememberedCommands);
        await state.WriteStateAsync();
        Settlements.SendAll();
        Events.Publish();
        await SyncWatchAsync();
        return Result<CloseReceipt>.Ok(outcome);
    }

    public async Task<Result<IntentReceipt>> AddAsync(AddToPositionCommand command)
    {
        if (S.IntentChanges.TryGet(command.CommandId, out var done)) return Result<IntentReceipt>.Ok(done);
        await FinishOtherPendingAsync(command.CommandId);
        if (S.IntentChanges.TryGet(command.CommandId, out done)) return Result<IntentReceipt>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<IntentReceipt>();
        var position = current.Position!;
        var filled = await SendAsync(VenueOf(current), new PendingCommand { Add = command }, new OpenOrder($"{current.PositionId}:add:{command.CommandId}", Key.AgentId, Key.Account,
            Key.Symbol, current.TokenAddress, position.Side, position.SizeDecimals, command.CollateralUsdc, position.Leverage, command.ReferencePrice,
            command.MinTokenOut, command.MaxSlippageBps, command.Authorization));
        if (!filled.IsSuccess) return await RefusedAsync<IntentReceipt>(filled.Rejection!);
        var added = PositionMath.Add(position, command.CollateralUsdc, filled.Value!.Price, filled.Value.Size);
        if (!added.IsSuccess) return await RefusedAsync<IntentReceipt>(added.Rejection!);
        current.Position = added.Value;
        current.OriginalSize += added.Value!.Size - position.Size;
        current.CollateralUsdc += command.CollateralUsdc;
        current.LastTransaction = Transaction(filled.Value!);
        current.UpdatedAt = clock.GetUtcNow();
        Events.Add(PositionEvents.Added(PositionKey, current, command.CommandId, command.CollateralUsdc, filled.Value.Size, filled.Value.Price,
            Transaction(filled.Value)));
        return await RememberChangeAsync(command.CommandId, current);
    }

    public async Task<Result<IntentReceipt>> ReduceAsync(ReducePositionCommand command)
    {
        if (S.IntentReductions.TryGet(command.CommandId, out var done)) return Result<IntentReceipt>.Ok(done);
        await FinishOtherPendingAsync(command.CommandId);
        if (S.IntentReductions.TryGet(command.CommandId, out done)) return Result<IntentReceipt>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<IntentReceipt>();
        var position = current.Position!;
        if (command.TokenAmount <= 0 || command.TokenAmount > position.Size)
            return new Rejection(Errors.InsufficientPositionSize, $"Cannot sell {command.TokenAmount}; the position holds {position.Size}.")
                .With("size", position.Size);
        var filled = await SendAsync(VenueOf(current), new PendingCommand { Reduce = command }, CloseOrder(current, $"{current.PositionId}:reduce:{command.CommandId}",
            command.TokenAmount, command.ReferencePrice, command.MinUsdcOut, command.MaxSlippageBps, command.Authorization));
        if (!filled.IsSuccess) return await RefusedAsync<IntentReceipt>(filled.Rejection!);
        var fill = filled.Value!;
        var reduction = PositionMath.Reduce(position, command.TokenAmount, fill.Price);
        if (!reduction.IsSuccess) return await RefusedAsync<IntentReceipt>(reduction.Rejection!);
        Apply(current, reduction.Value!, fill, CloseReasons.Reduce, ladderIndex: null);
        current.UpdatedAt = clock.GetUtcNow();
        var outcome = Receipt(current, reduction.Value!.RealizedPnlUsdc);
        S.Pending = null;
        S.IntentReductions.Remember(command.CommandId, outcome, RememberedIntentCommands);
        await state.WriteStateAsync();
        Settlements.SendAll();
        Events.Publish();
        await SyncWatchAsync();
        return Result<IntentReceipt>.Ok(outcome);
    }

    public async Task<Result<IntentReceipt>> UpdateExitsAsync(UpdateExitsCommand command)
    {
        if (S.IntentChanges.TryGet(command.CommandId, out var done)) return Result<IntentReceipt>.Ok(done);
        await FinishOtherPendingAsync(command.CommandId);
        if (S.IntentChanges.TryGet(command.CommandId, out done)) return Result<IntentReceipt>.Ok(done);
        if (S.Current is not { Status: PositionStatus.Open } current) return NotOpen<IntentReceipt>();
        if (ExitLadder.Validate(command.Exits, ExitBounds.Unbounded) is { } bad) return bad;
        if (command.Authorization is { } signed)
        {
            // A venue that keeps the ladder (the chain fires exits only on the ladder the agent signed) is told first.
            var updated = await SendAsync(VenueOf(current), new PendingCommand { Update = command }, new LadderOrder($"{current.PositionId}:ladder:{command.CommandId}",
                Key.AgentId, Key.Account, Key.Symbol, current.TokenAddress, current.TokenDecimals, command.Exits, signed));
            if (!updated.IsSuccess) return await RefusedAsync<IntentReceipt>(updated.Rejection!);
            current.LastTransaction = Transaction(updated.Value!);
            current.Authorization = signed;
        }
        current.Plan = current.Plan.WithLadder(command.Exits);
        current.UpdatedAt = clock.GetUtcNow();
        return await RememberChangeAsync(command.CommandId, current);
    }

    public Task OnPriceAsync(PriceTick tick) => EvaluateTickAsync(tick, again: false);

    /// <summary>
    /// Evaluates the position's order or exits at <paramref name="tick"/>; <paramref name="again"/> evaluates a tick that is not
    /// newer than the last one (the exit retry, on the feed's latest price), which a delivered tick never may.
    /// </summary>
    private async Task EvaluateTickAsync(PriceTick tick, bool again)
    {
        await FinishOtherPendingAsync(PendingCommand.TickId(tick));
        var current = S.Current;
        if (current is not { IsLive: true })
        {
            await ClearPendingAsync();
            // A stale index entry (e.g. left by a crash): remove it so ticks stop coming.
            await ExitIndex.PageFor(GrainFactory, Key.Symbol, PositionKey).UnwatchAsync(PositionKey);
            return;
        }
        if (tick.Sequence <= S.LastTickSequence && !again) // an older tick delivered late: the newer one already decided
        {
            await ClearPendingAsync();
            return;
        }

        bool changed;
        _exitsFilled = 0;
        _saleRefused = false;
        _exitWaiting = false;
        try
        {
            changed = current.Status == PositionStatus.Pending ? await FillOrderAsync(current, tick) : await EvaluateExitsAsync(current, tick);
        }
        catch
        {
            // A venue whose answer was lost part-way (a second rung, say) may leave this activation's state ahead of storage:
            // drop it, so the replay (the reminder) starts from what was stored and finds the sales by their order ids.
            DeactivateOnIdle();
            throw;
        }
        S.LastTickSequence = Math.Max(S.LastTickSequence, tick.Sequence);
        // A tick whose exit went to a venue outside the cluster was stored as pending: its outcome is stored now, whatever it was.
        var wasPending = S.Pending is not null;
        S.Pending = null;
        if (changed || wasPending || _saleRefused)
        {
            if (changed) current.UpdatedAt = clock.GetUtcNow();
            await state.WriteStateAsync();
            Settlements.SendAll();
            Events.Publish();
            // Counted once stored: tick-to-exit is the time until an exit is filled and durable.
            if (_exitsFilled > 0)
            {
                AgentDeskMetrics.ExitsFired.Add(_exitsFilled);
                AgentDeskMetrics.TickToExit.Record((clock.GetUtcNow() - tick.At).TotalMilliseconds);
                _exitsFilled = 0;
            }
        }
        // After the outcome is stored: the reminder table failing must not keep a sale from being stored.
        await FollowExitRetryAsync((_saleRefused || _exitWaiting) && current.IsLive ? current.PositionId : null, current.RefusedSales);
        // The tick came from the index, so the index holds this position: a live one with nothing left to watch (its exits
        // removed) unwatches even if this activation never registered it, or every tick across the old band would call it.
        await SyncWatchAsync(indexHoldsThis: true);
    }

    public async Task ConfirmSettlementAsync(string settlementId)
    {
        if (await Settlements.ConfirmAsync(settlementId)) await state.WriteStateAsync();
    }

    public Task<PositionSnapshot?> GetAsync() => Task.FromResult(S.Current is null ? null : Snapshot(S.Current));

    public Task<PositionForCommand> GetForCommandAsync(string commandId) => Task.FromResult(new PositionForCommand(
        S.Current is null ? null : Snapshot(S.Current),
        S.IntentOpens.Contains(commandId) || S.BatchOpens.Contains(commandId) || S.CloseReceipts.Contains(commandId) || S.IntentReductions.Contains(commandId)
        || S.IntentChanges.Contains(commandId)));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == Settlements.ReminderName) await Settlements.OnReminderAsync();
        else if (reminderName == EventOutbox.ReminderName) await Events.OnReminderAsync();
        else if (reminderName == PendingReminder)
        {
            if (S.Pending is not null) await ReplayPendingAsync();
            else if (await this.GetReminder(PendingReminder) is { } reminder) await this.UnregisterReminder(reminder);
        }
        else if (reminderName == ExitRetryReminder) await RetryRefusedExitAsync();
    }

    /// <summary>
    /// Registers the exit-retry reminder when an exit of <paramref name="lifecycle"/> the venue refused (an allowance withdrawn,
    /// a stale pool feed) becomes due, first after <see cref="ExitRetry.Delay"/> for its <paramref name="refusals"/>, and drops
    /// it once none is; only a change touches the reminder table, never a tick while the exit waits. What it armed is stored
    /// once the reminder table has done so: a failure there leaves things as they were, for the next evaluation to mend.
    /// </summary>
    private async Task FollowExitRetryAsync(string? lifecycle, int refusals)
    {
        if (lifecycle == S.ExitRetryFor) return;
        try
        {
            if (lifecycle is not null) await ScheduleExitRetryAsync(refusals);
            else if (await this.GetReminder(ExitRetryReminder) is { } reminder) await this.UnregisterReminder(reminder);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Position {Position} could not {Change} its exit retry; its next evaluation tries again.", PositionKey,
                lifecycle is null ? "drop" : "arm");
            return;
        }
        S.ExitRetryFor = lifecycle;
        await state.WriteStateAsync();
    }

    /// <summary>The exit-retry reminder, next due after the wait for <paramref name="refusals"/>, and as often after.</summary>
    private async Task ScheduleExitRetryAsync(int refusals)
    {
        var delay = ExitRetry.Delay(retries.Value.Reminder, refusals);
        await this.RegisterOrUpdateReminder(ExitRetryReminder, delay, delay);
    }

    /// <summary>
    /// An exit the venue refused is tried again on the feed's latest price, tick or no tick: in a quiet market the next tick
    /// may be long in coming, and a stop that fired is due until it sells. Each try is an evaluation like a tick's, so one
    /// that sells, or finds the exit no longer fires, ends the retries; so does the position's lifecycle ending. One still
    /// refused waits longer before the next (the reminder's period follows <see cref="ExitRetry.Delay"/>).
    /// </summary>
    private async Task RetryRefusedExitAsync()
    {
        var latest = S.Current is { IsLive: true } current && current.PositionId == S.ExitRetryFor
            ? await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(Key.Symbol)).GetLatestAsync()
            : null;
        if (latest is not null) await EvaluateTickAsync(latest, again: true);
        else await FollowExitRetryAsync(null, 0);
        if (S.ExitRetryFor is not null && S.ExitRetryFor == S.Current?.PositionId) await ScheduleExitRetryAsync(S.Current.RefusedSales);
        // A reminder registered by an activation that died before storing what it armed is dropped here.
        else if (S.ExitRetryFor is null && await this.GetReminder(ExitRetryReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    /// <summary>
    /// Hands an order to the venue. For a venue that leaves the cluster, the command is stored first (with a reminder that
    /// replays it), so an activation that dies after sending leaves a record. A command that was stored before (a replay, or
    /// a retry after the venue's answer was lost) asks the venue what became of the order before sending it, so it executes
    /// once. Orders have deterministic ids, which the venue uses to refuse a second execution too.
    /// </summary>
    private async Task<Outcome<VenueFill>> SendAsync(IExecutionVenue venue, PendingCommand command, VenueOrder order)
    {
        if (!venue.SendsOutsideCluster) return await Execute(venue, order);
        if (S.Pending is not null && await venue.ReconcileAsync(order) is { } known) return known;
        if (S.Pending is null)
        {
            S.Pending = command;
            await state.WriteStateAsync();
            // If this activation dies before the outcome is stored, something must replay the command. A batch's steps are
            // replayed by the batch's own resume reminder (each step is idempotent and finds this pending command); any
            // other command (an intent, an exit) registers the position's reminder.
            if (!command.ReplayedByBatch) await this.RegisterOrUpdateReminder(PendingReminder, retries.Value.Reminder, retries.Value.Reminder);
        }
        return await Execute(venue, order);
    }

    private static Task<Outcome<VenueFill>> Execute(IExecutionVenue venue, VenueOrder order) => order switch
    {
        OpenOrder open => venue.OpenAsync(open),
        CloseOrder close => venue.CloseAsync(close),
        LadderOrder ladder => venue.UpdateLadderAsync(ladder),
        _ => throw new ArgumentOutOfRangeException(nameof(order)),
    };

    private IExecutionVenue VenueOf(PositionLifecycle lifecycle) => venues.Get(lifecycle.Venue);

    /// <summary>Another command left unfinished (its venue's answer was lost) is finished before a new one starts.</summary>
    private async Task FinishOtherPendingAsync(string commandId)
    {
        if (S.Pending is { } pending && pending.Id != commandId) await ReplayPendingAsync();
    }

    private async Task ClearPendingAsync()
    {
        if (S.Pending is null) return;
        S.Pending = null;
        await state.WriteStateAsync();
    }

    /// <summary>The venue (or the arithmetic) refused: nothing changed, and any stored pending command is cleared.</summary>
    private async Task<Result<T>> RefusedAsync<T>(Rejection rejection)
    {
        if (S.Pending is not null)
        {
            S.Pending = null;
            await state.WriteStateAsync();
        }
        return rejection;
    }

    private async Task ReplayPendingAsync()
    {
        var pending = S.Pending!;
        if (pending.Open is { BatchId: null } open) await OpenAsync(open);
        else if (pending.Open is { } batchOpen) await OpenForBatchAsync(batchOpen);
        else if (pending.Add is { } add) await AddAsync(add);
        else if (pending.Reduce is { } reduce) await ReduceAsync(reduce);
        else if (pending.Close is { } close) await CloseAsync(close);
        else if (pending.Update is { } update) await UpdateExitsAsync(update);
        else if (pending.Tick is { } tick) await EvaluateTickAsync(tick, again: true); // an exit retry's tick is not newer than the last
        else S.Pending = null;
        if (S.Pending is null && await this.GetReminder(PendingReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private async Task<Result<IntentReceipt>> RememberChangeAsync(string commandId, PositionLifecycle current)
    {
        var receipt = Receipt(current);
        S.Pending = null;
        S.IntentChanges.Remember(commandId, receipt, RememberedIntentCommands);
        await state.WriteStateAsync();
        Events.Publish();
        await SyncWatchAsync();
        return Result<IntentReceipt>.Ok(receipt);
    }

    private static Rejection BatchCompleted(string commandId) =>
        new(Errors.BatchCompleted, $"The batch behind {commandId} has completed; its steps are not carried out any more.");

    private Result<T> NotOpen<T>() => Result<T>.Fail(Errors.PositionNotFound,
        $"There is no open position on {Key.Symbol} for {Key.Account} under agent {Key.AgentId}.");

    private async Task<bool> FillOrderAsync(PositionLifecycle current, PriceTick tick)
    {
        if (current.Order is not { } order || !order.IsReachedAt(tick.PriceUsd)) return false;
        var filled = await SendAsync(VenueOf(current), new PendingCommand { Tick = tick }, new OpenOrder(current.PositionId, Key.AgentId, Key.Account, Key.Symbol, current.TokenAddress, current.Side,
            current.TokenDecimals, current.CollateralUsdc, current.Leverage, tick.PriceUsd, 0m, Domain.Intents.IntentAdmission.MaxSlippageBps));
        if (!filled.IsSuccess)
        {
            // The venue refused the triggered order: cancel it and hand the collateral back.
            current.Status = PositionStatus.Cancelled;
            current.CloseReason = $"{CloseReasons.OrderRejected}:{filled.Rejection!.Code}";
            current.UpdatedAt = clock.GetUtcNow();
            QueueCancelledOrderSettlement(current, ledgerRefundedByBatch: false);
            Events.Add(PositionEvents.Cancelled(PositionKey, current));
            return true;
        }
        Fill(current, filled.Value!);
        current.UpdatedAt = clock.GetUtcNow();
        Events.Add(PositionEvents.Opened(PositionKey, current, triggered: true));
        current.Order = null;
        return true;
    }

    private async Task<bool> EvaluateExitsAsync(PositionLifecycle current, PriceTick tick)
    {
        var position = current.Position!;
        var decision = ExitEvaluator.Evaluate(current.Plan, Subject(position), tick.PriceUsd);
        // A refused exit still due waits for its retry time: neither a tick nor the retry sends it before then (on a chain,
        // each send of a refused sale is a failed order), though a tick still moves the trailing extreme. A sale already
        // sent for this tick (stored as pending) is always finished.
        var waits = decision.Fills.Count > 0 && S.Pending is null && current.ExitWaits(clock.GetUtcNow());
        if (decision.Fills.Count == 0 || waits)
        {
            _exitWaiting = waits;
            if (decision.Plan.Trailing == current.Plan.Trailing) return false;
            current.Plan = current.Plan with { Trailing = decision.Plan.Trailing }; // only the trailing extreme moved
            return true;
        }

        if (current.Authorization is not null) return await FireSignedRungsAsync(current, decision, tick);

        // One sale per tick covers everything that fired.
        var total = decision.Fills.Sum(f => f.Size);
        var filled = await SendAsync(VenueOf(current), new PendingCommand { Tick = tick }, CloseOrder(current, current.SaleOrderId($"exit:{current.Exits.Count}"),
            total, tick.PriceUsd, 0m, Domain.Intents.IntentAdmission.MaxSlippageBps, authorization: null));
        if (!filled.IsSuccess)
        {
            // Tried again by the exit retry, or a tick once its wait is over, under a new order id if this one is spent.
            current.ExitRefused(filled.Rejection!, clock.GetUtcNow(), retries.Value.Reminder);
            _saleRefused = true;
            return false;
        }
        current.ExitRetryAt = null;
        var fill = filled.Value!;
        var plan = decision.Plan;
        foreach (var exit in decision.Fills)
        {
            var reduction = PositionMath.Reduce(current.Position!, exit.Size, fill.Price);
            if (!reduction.IsSuccess) return false;
            Apply(current, reduction.Value!, fill, exit.Reason.ToWire(), exit.LadderIndex);
        }
        current.Plan = plan;
        _exitsFilled = decision.Fills.Count;
        return true;
    }

    /// <summary>
    /// A vault position's rungs: each is its own sale naming the signed rung it fills (the chain fires one rule of the signed
    /// ladder per exit, at its own price check). Rungs are fired in order; one the venue refuses stops the rest until the
    /// next tick, and only the rungs that sold are marked fired.
    /// </summary>
    private async Task<bool> FireSignedRungsAsync(PositionLifecycle current, ExitDecision decision, PriceTick tick)
    {
        var ladder = current.Plan.Ladder.Select(s => s.Rule).ToArray();
        var steps = current.Plan.Ladder.ToArray();
        var fired = 0;
        foreach (var exit in decision.Fills)
        {
            if (exit.LadderIndex is not { } rung || current.Position is not { Size: > 0 } position) break;
            var filled = await SendAsync(VenueOf(current), new PendingCommand { Tick = tick }, CloseOrder(current, current.SaleOrderId($"exit:{current.Exits.Count}"),
                Math.Min(exit.Size, position.Size), tick.PriceUsd, 0m, Domain.Intents.IntentAdmission.MaxSlippageBps, authorization: null) with
            {
                Exit = new LadderExit(ladder, rung),
            });
            if (!filled.IsSuccess)
            {
                current.ExitRefused(filled.Rejection!, clock.GetUtcNow(), retries.Value.Reminder); // tried again by the exit retry, or a tick after its wait
                _saleRefused = true;
                break;
            }
            current.ExitRetryAt = null;
            var fill = filled.Value!;
            // The venue's size is what was sold (the chain computes a rung's share of the position itself).
            var reduction = PositionMath.Reduce(position, Math.Min(fill.Size > 0 ? fill.Size : exit.Size, position.Size), fill.Price);
            if (!reduction.IsSuccess) break;
            Apply(current, reduction.Value!, fill, exit.Reason.ToWire(), rung);
            steps[rung] = steps[rung] with { Fired = true };
            fired++;
        }
        if (fired == 0) return false;
        current.Plan = current.Plan with { Ladder = steps };
        _exitsFilled = fired;
        return true;
    }

    private CloseOrder CloseOrder(PositionLifecycle lifecycle, string orderId, decimal size, decimal? price, decimal minUsdcOut, int maxSlippageBps,
        Domain.Intents.IntentAuthorization? authorization) =>
        new(orderId, Key.AgentId, Key.Account, Key.Symbol, lifecycle.TokenAddress, lifecycle.Side, lifecycle.TokenDecimals, size, price, minUsdcOut,
            maxSlippageBps, authorization);

    private static void Fill(PositionLifecycle lifecycle, VenueFill fill)
    {
        lifecycle.Position = new PositionState(lifecycle.Side, fill.Size, fill.Price, lifecycle.Leverage, lifecycle.CollateralUsdc, 0m, lifecycle.TokenDecimals);
        lifecycle.OriginalSize = fill.Size;
        lifecycle.Status = PositionStatus.Open;
        lifecycle.OpenTransaction = Transaction(fill);
        lifecycle.LastTransaction = lifecycle.OpenTransaction;
        if (lifecycle.Plan.Trailing is { } trailing)
            lifecycle.Plan = lifecycle.Plan with { Trailing = trailing with { ExtremePrice = fill.Price } };
    }

    private ExitEvent Apply(PositionLifecycle lifecycle, Reduction reduction, VenueFill fill, string reason, int? ladderIndex)
    {
        var sale = new ExitEvent(reason, ladderIndex, reduction.SoldSize, fill.Price, reduction.RealizedPnlUsdc, Transaction(fill), lifecycle.NextSwapId, fill.At);
        var entryPrice = lifecycle.Position!.EntryPrice;
        lifecycle.Position = reduction.After;
        lifecycle.LastTransaction = sale.Transaction;
        lifecycle.RealizedPnlUsdc += reduction.RealizedPnlUsdc;
        lifecycle.Exits.Add(sale);
        if (reduction.Closed)
        {
            lifecycle.Status = PositionStatus.Closed;
            lifecycle.CloseReason = reason;
            lifecycle.ExitPrice = fill.Price;
        }
        QueueSettlement(lifecycle, reduction.ReleasedMarginUsdc, reduction.PayoutUsdc, reduction.RealizedPnlUsdc, reduction.Closed);
        Events.Add(PositionEvents.Exited(PositionKey, lifecycle, sale, reduction, entryPrice));
        return sale;
    }

    private void QueueSettlement(PositionLifecycle lifecycle, decimal released, decimal payout, decimal pnl, bool closed,
        IReadOnlyList<Domain.Agents.FeeCharge>? refundedFees = null, bool ledgerRefundedByBatch = false)
    {
        var id = $"{lifecycle.PositionId}:s{lifecycle.SettlementCount++}";
        Settlements.Add(new Settlement(id, PositionKey, lifecycle.PositionId, released, payout, pnl, closed, refundedFees, ledgerRefundedByBatch));
    }

    /// <summary>
    /// An order that never filled hands back its collateral and the fees its placing charged (docs/domain.md, "Sizing"),
    /// and returns those fees (null when there were none).
    /// </summary>
    private Domain.Agents.FeeCharge[]? QueueCancelledOrderSettlement(PositionLifecycle order, bool ledgerRefundedByBatch)
    {
        var fees = order.Fees.Where(f => f.AmountUsdc > 0).ToArray();
        var refunded = fees.Length > 0 ? fees : null;
        QueueSettlement(order, order.CollateralUsdc, order.CollateralUsdc, 0m, closed: true, refunded, ledgerRefundedByBatch);
        return refunded;
    }

    /// <summary>Where a settlement goes: the subscriber's account, or the agent's vault allocation for signed intents.</summary>
    private void Send(Settlement settlement)
    {
        if (S.Current?.SettleToAccount is { } account) _ = GrainFactory.GetGrain<ISubscriberGrain>(account).SettleAsync(settlement);
        else _ = GrainFactory.GetGrain<IAgentGrain>(Key.AgentId).SettleVaultPositionAsync(settlement);
    }

    /// <summary>
    /// The exit index is durable, but confirming the envelope after activation heals a registration lost in a crash (the
    /// position's write stored, its watch never sent). Until it gets through it is tried again every
    /// <see cref="WatchRetryDelay"/> while this activation lives.
    /// </summary>
    private async Task HealWatchAsync()
    {
        try
        {
            if (!_watchConfirmed) await SyncWatchAsync(confirm: true);
            _watchHeal?.Dispose();
            _watchHeal = null;
        }
        catch (Exception error)
        {
            logger.LogWarning(error, "Position {Position} could not confirm its envelope with its exit index page; trying again in {Delay}.", PositionKey, WatchRetryDelay);
        }
    }

    /// <summary>Tells the symbol's exit index where this position must next be looked at (or that it is done).</summary>
    /// <remarks>
    /// <see cref="_registered"/> is what the index holds as far as this activation knows. A position with nothing to
    /// watch that the index is not known to hold is not sent an unwatch: a stale entry is removed when its tick arrives.
    /// <paramref name="confirm"/> tells the index even when nothing changed, to turn the assumption into knowledge.
    /// </remarks>
    private async Task SyncWatchAsync(bool indexHoldsThis = false, bool confirm = false)
    {
        var envelope = CurrentEnvelope();
        if (!confirm && envelope == _registered && !(indexHoldsThis && envelope is null)) return;
        var page = ExitIndex.PageFor(GrainFactory, Key.Symbol, PositionKey);
        if (envelope is null) await page.UnwatchAsync(PositionKey);
        else await page.WatchAsync(PositionKey, envelope);
        _registered = envelope;
        _watchConfirmed = true;
    }

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

    /// <summary>
    /// What an intent's answer reports of <paramref name="l"/> just after the intent changed it: its last transaction is the
    /// intent's own (an open's fill, an add's, a sale's, a signed ladder's), or the position's latest when the intent traded
    /// nothing; a sale passes its P/L.
    /// </summary>
    private IntentReceipt Receipt(PositionLifecycle l, decimal realizedPnlUsdc = 0m) =>
        new(l.PositionId, Key.Symbol, l.Status, l.Position?.Size ?? 0m, l.Position?.EntryPrice ?? 0m, l.Plan.PendingRules.ToArray(),
            l.LastTransaction ?? l.OpenTransaction, realizedPnlUsdc, l.Exits is [.., var last] ? last.HistoricalSwapId : null);

    private PositionSnapshot Snapshot(PositionLifecycle l)
    {
        var (agentId, account, symbol) = Key;
        var p = l.Position;
        return new PositionSnapshot(l.PositionId, PositionKey, agentId, account, symbol, l.TokenAddress, l.Status, l.Side,
            p?.Size ?? 0m, l.OriginalSize, p?.EntryPrice ?? 0m, l.Leverage, p?.MarginUsdc ?? l.CollateralUsdc, l.RealizedPnlUsdc,
            l.Order?.TriggerPrice, l.Plan.StopLossPrice, l.Plan.TakeProfitPrice, l.Plan.Trailing?.Percentage, l.Plan.Trailing?.ExtremePrice,
            l.Plan.PendingRules.ToArray(), l.Exits.ToArray(), l.BatchId, l.OpenTransaction, l.CreatedAt, l.UpdatedAt,
            l.CloseReason, l.ExitPrice, l.Organization, l.Fees.ToArray(), S.LastTickSequence, l.LastTransaction);
    }
}

/// <summary>Position ids: a UUID derived from the grain key and the open id, stable across retries of the same open.</summary>
public static class PositionIds
{
    public static string For(string positionKey, string openId)
    {
        var hash = Domain.Intents.Eip712Encoding.Keccak(System.Text.Encoding.UTF8.GetBytes(positionKey + "|" + openId));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5-style
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash.AsSpan(0, 16), bigEndian: true).ToString("D");
    }
}
