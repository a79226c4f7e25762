using System.Diagnostics;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Prices;
using AgentDesk.Domain.Sizing;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace AgentDesk.Grains.Batches;

public sealed class BatchState
{
    public BatchKind Kind { get; set; }

    /// <summary>The request as received, to tell a retry from a different request with the same id.</summary>
    public BatchOpenRequest? Requested { get; set; }

    /// <summary>The request as executed (symbol normalised, leverage resolved).</summary>
    public BatchOpenRequest? Open { get; set; }
    public BatchCloseRequest? Close { get; set; }
    public string Organization { get; set; } = "";
    public BatchStatus Status { get; set; }
    public string Symbol { get; set; } = "";
    public int Subscribers { get; set; }

    /// <summary>
    /// The outcomes not in a stored page (<see cref="OutcomePages"/>): fewer than <see cref="BatchOptions.OutcomesPerPage"/>.
    /// A row written before pages holds every outcome here.
    /// </summary>
    public Dictionary<string, BatchStepOutcome> Outcomes { get; set; } = [];

    /// <summary>
    /// The keys of the pages of outcomes stored in rows of their own (<see cref="BatchOutcomePage"/>), in order. Each key is
    /// new (a Guid) and its row written once, before this row names it.
    /// </summary>
    public List<string> OutcomePages { get; set; } = [];

    /// <summary>The batch has settled its fees with the fee ledgers: a batch-open's credit, or a batch-close's refund of the orders it cancelled.</summary>
    public bool FeesCredited { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>Runs that ended with subscribers still unreachable; after <see cref="BatchGrain.MaxResumes"/> their steps are given up on.</summary>
    public int Resumes { get; set; }

    /// <summary>Progress events the organisation's log has not confirmed yet.</summary>
    public List<EventDraft> Events { get; set; } = [];
}

/// <summary>
/// <see cref="BatchOptions.OutcomesPerPage"/> outcomes of a batch, in the order they were recorded, in a row of their own
/// (state <see cref="StorageNames.BatchOutcomes"/>, the batch's id with the page's key as its extension). Written once, when
/// it fills, under a key never used before, and never again.
/// </summary>
public sealed class BatchOutcomePage
{
    public List<BatchStepOutcome> Outcomes { get; set; } = [];
}

/// <summary>
/// Runs one batch. Outcomes are stored chunk by chunk; the per-subscriber steps are idempotent on
/// (batchId, account), so a batch resumed by its reminder after a silo failure finishes the same steps and
/// never opens a second position. A step that keeps failing is given up on, and then the account and the position
/// say what it did: a step is recorded as failed only when nothing was traded for it, and nothing can be later. The
/// batch completes once every subscriber's outcome is known.
/// </summary>
/// <remarks>
/// The outcomes are stored in pages: each checkpoint writes the pages that filled since the last one, once each, and the
/// batch's own row with the few outcomes not in a page yet. So a checkpoint costs what is new, not everything done so far:
/// rewriting every outcome at every checkpoint grew with the square of the batch's size (a 50,000-subscriber batch's last
/// writes were 33 MB of JSON and took up to a second each on PostgreSQL; docs/benchmarks.md). A page is inserted under a
/// new key and only then named in the batch's row, whose version check decides: pages a failed or stale activation wrote
/// are named by no row and never read, and no writer can overwrite a page a row names.
/// </remarks>
[GrainType("batch")]
public sealed class BatchGrain(
    [PersistentState(StorageNames.Batch, StorageNames.Provider)] IPersistentState<BatchState> state,
    IOptions<BatchOptions> options,
    IOptions<RiskOptions> risk,
    IOptions<PriceOptions> prices,
    IOptions<RetryOptions> retries,
    IOptions<EventOptions> eventOptions,
    IEventPublisher publisher,
    TimeProvider clock,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain, IRemindable
{
    private const string ResumeReminder = "resume";
    private const int StepAttempts = 3;
    public const int MaxResumes = 5;
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    /// <summary>Page rows read or written side by side: enough to fill the storage's round trips, not its connection pool.</summary>
    private const int PagesAtOnce = 16;

    private EventOutbox? _events;

    /// <summary>What <see cref="GetAsync"/> answers: the result as last stored.</summary>
    private BatchResult? _stored;

    /// <summary>Every outcome, in the order recorded: the stored pages', then the rest (<see cref="_unpaged"/>).</summary>
    private readonly Dictionary<string, BatchStepOutcome> _outcomes = [];

    /// <summary>The accounts whose outcomes are in no stored page, in the order recorded: the next pages are cut from these.</summary>
    private readonly List<string> _unpaged = [];

    private IGrainStorage? _storage;

    /// <summary>The agent's completed batches as this run read them: its steps tell each account and position.</summary>
    private IReadOnlyList<Guid> _completedBatches = [];

    private BatchState S => state.State;
    private Guid BatchId => this.GetPrimaryKey();
    private IAgentGrain Agent => GrainFactory.GetGrain<IAgentGrain>(S.Open?.AgentId ?? S.Close!.AgentId);
    private EventOutbox Events => _events ??= new EventOutbox(this, () => S.Events, e => S.Events = e, publisher, eventOptions.Value, retries.Value);
    private IGrainStorage Storage => _storage ??= ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);

    /// <summary>Messages still outstanding are re-sent by a reminder once this activation is gone.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await Events.OnDeactivateAsync(cancellationToken);
    }

    /// <summary>Reads the stored pages of outcomes, then takes the row's own after them.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            var pages = S.OutcomePages.Select(_ => new GrainState<BatchOutcomePage>(new BatchOutcomePage())).ToList();
            await ForEachPageAsync(pages.Count, i => Storage.ReadStateAsync(StorageNames.BatchOutcomes, PageId(S.OutcomePages[i]), pages[i]));
            for (var i = 0; i < pages.Count; i++)
            {
                // Named only once written, and never empty, so a page missing or empty (cleared) is a row changed behind the
                // cluster's back: not read as no outcomes.
                if (!pages[i].RecordExists || pages[i].State is not { Outcomes.Count: > 0 } page)
                    throw new InvalidOperationException($"Batch {BatchId} names outcome page {S.OutcomePages[i]}, which is not stored.");
                foreach (var outcome in page.Outcomes) _outcomes[outcome.Account] = outcome;
            }
        }
        catch (Exception e) when (DiscardStateOnFailure.FromDatabase(e) is { } database)
        {
            // As a failed call does (DiscardStateOnFailure): the driver's exception cannot cross the grain boundary, and callers
            // must be able to tell "retry" from "bug".
            logger.LogWarning(database, "Batch {BatchId} could not load its outcomes", BatchId);
            throw new StorageUnavailableException($"The database failed while batch {BatchId} loaded its outcomes: {database.Message}");
        }
        foreach (var (account, outcome) in S.Outcomes) RecordOutcome(account, outcome);
        _stored = Stored ? Result() : null;
        Events.Publish();
    }

    public async Task<Result<BatchResult>> OpenAsync(BatchOpenRequest request)
    {
        if (S.Open is not null || S.Close is not null)
        {
            if (!IsStoredRequest(request, null)) return Conflict();
            if (ShouldRunForClientRetry()) await RunAsync(byClientRetry: true);
            return Result<BatchResult>.Ok(Result());
        }

        var agent = await GrainFactory.GetGrain<IAgentGrain>(request.AgentId).GetProfileAsync();
        if (agent is null) return Result<BatchResult>.Fail(Errors.AgentNotFound, $"Agent {request.AgentId} is not registered.");
        if (agent.Paused) return Result<BatchResult>.Fail(Errors.AgentPaused, $"Agent {request.AgentId} is paused; resume it to trade.");
        if (TradeSizing.ValidateWeight(request.Weight) is { } badWeight) return badWeight;
        if (agent.AgentType == AgentType.Swap && request.Side == Side.Short)
            return Result<BatchResult>.Fail(Errors.ShortNotAllowed, "SWAP agents trade spot: SHORT is not available.");
        var leverage = options.Value.Leverage.Resolve(agent.AgentType, request.Symbol, request.Leverage);
        if (!leverage.IsSuccess) return leverage.Rejection!;
        if (!AbsoluteExits.IsUnsetOrPrice(request.TriggerPrice))
            return Result<BatchResult>.Fail(Errors.InvalidTriggerPrice,
                $"triggerPrice must be 0 (unset) or between {Domain.Prices.PriceGuard.MinPriceUsd} and {Domain.Prices.PriceGuard.MaxPriceUsd} USD.");
        var feed = await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(request.Symbol)).GetViewAsync();
        if (Unusable(feed, request.Symbol) is { } unusable) return unusable;
        var price = feed.Latest!;
        var reference = request.TriggerPrice > 0 ? request.TriggerPrice : price.PriceUsd;
        var exits = AbsoluteExits.Build(request.Side, reference, request.StopLossPrice, request.TakeProfitPrice, request.TrailingStopPercentage);
        if (!exits.IsSuccess) return exits.Rejection!;

        S.Kind = BatchKind.Open;
        S.Requested = request;
        S.Open = request with { Symbol = request.Symbol.ToUpperInvariant(), Leverage = leverage.Value };
        S.Organization = agent.Organization;
        S.Symbol = S.Open.Symbol;
        await StartAsync();
        return Result<BatchResult>.Ok(Result());
    }

    public async Task<Result<BatchResult>> CloseAsync(BatchCloseRequest request)
    {
        if (S.Open is not null || S.Close is not null)
        {
            if (!IsStoredRequest(null, request)) return Conflict();
            if (ShouldRunForClientRetry()) await RunAsync(byClientRetry: true);
            return Result<BatchResult>.Ok(Result());
        }
        var opened = await GrainFactory.GetGrain<IBatchGrain>(request.OpenBatchId).GetAsync();
        if (opened is null || opened.Kind != BatchKind.Open || opened.AgentId != request.AgentId)
            return Result<BatchResult>.Fail(Errors.BatchNotFound, $"Agent {request.AgentId} has no batch-open {request.OpenBatchId}.");
        // Closing what a running batch has opened so far would leave the rest open, unreached by any close.
        if (opened.Status != BatchStatus.Completed)
            return Result<BatchResult>.Fail(Errors.BatchRunning, $"Batch-open {request.OpenBatchId} is still running; close it once it has completed.");

        S.Kind = BatchKind.Close;
        S.Close = request;
        S.Organization = opened.Organization;
        S.Symbol = opened.Symbol;
        await StartAsync();
        return Result<BatchResult>.Ok(Result());
    }

    /// <summary>
    /// The batch as last stored. Null until the request is stored: a batch that is still validating (or whose first write
    /// failed) does not exist for readers yet, so a status URL handed out after <see cref="GetAsync"/> answered always
    /// finds the batch. This call interleaves with the run, so it never answers the run's memory: a completion whose write
    /// then fails (the database restarting, say) is resumed from the last checkpoint and may end differently, and a
    /// client or a batch-close that had read it would act on a result that never was.
    /// </summary>
    public Task<BatchResult?> GetAsync() => Task.FromResult(_stored);

    /// <summary>When this activation last started a run; null until it has.</summary>
    private long? _lastRunStarted;

    /// <summary>
    /// A client's retry of a running batch runs it again only when this activation has not run it for a while: after a
    /// silo failure (a fresh activation) it resumes at once, but a client re-sending every second queues no run behind
    /// run, each waiting out the same unreachable silo; the reminder resumes the batch meanwhile.
    /// </summary>
    private bool ShouldRunForClientRetry() => S.Status == BatchStatus.Running
        && (_lastRunStarted is not { } started || Stopwatch.GetElapsedTime(started) >= ClientRetryRunInterval);

    private static readonly TimeSpan ClientRetryRunInterval = TimeSpan.FromSeconds(30);

    public Task<Rejection?> CheckSameRequestAsync(BatchOpenRequest? open, BatchCloseRequest? close) =>
        Task.FromResult(IsStoredRequest(open, close) ? null : Conflict().Problem);

    /// <summary>Whether the open or close request is the one this batch stored (true while it stores none).</summary>
    private bool IsStoredRequest(BatchOpenRequest? open, BatchCloseRequest? close) =>
        (S.Open is null && S.Close is null) || (open is not null ? S.Requested == open : S.Close == close);

    public Task<BatchStatusView?> GetStatusAsync() =>
        Task.FromResult(_stored is { } stored ? new BatchStatusView(stored.AgentId, stored.Symbol, stored.Status) : null);

    private bool Stored => state.RecordExists && (S.Open is not null || S.Close is not null);

    /// <summary>Stores the pages that filled, then the state with the outcomes left over, then lets readers see it.</summary>
    private async Task WriteAsync()
    {
        var snapshot = Result();
        await StoreFullPagesAsync();
        // A dictionary of its own: a provider may serialise it after this method has gone on (ADO.NET does, on another thread).
        var rest = new Dictionary<string, BatchStepOutcome>(_unpaged.Count);
        foreach (var account in _unpaged) rest[account] = _outcomes[account];
        S.Outcomes = rest;
        await state.WriteStateAsync();
        _stored = Stored ? snapshot : null;
    }

    private void RecordOutcome(string account, BatchStepOutcome outcome)
    {
        _outcomes[account] = outcome;
        _unpaged.Add(account);
    }

    /// <summary>
    /// Inserts every full page of the outcomes not in a page yet, each under a new key, before the row that names them. If
    /// the row's write then fails, or this activation is a stale one, the pages are named by nothing (and stay, unread).
    /// </summary>
    private async Task StoreFullPagesAsync()
    {
        var perPage = options.Value.OutcomesPerPage;
        var keys = Enumerable.Range(0, _unpaged.Count / perPage).Select(_ => Guid.NewGuid().ToString("N")).ToArray();
        if (keys.Length == 0) return;
        await ForEachPageAsync(keys.Length, i => Storage.WriteStateAsync(StorageNames.BatchOutcomes, PageId(keys[i]),
            new GrainState<BatchOutcomePage>(new BatchOutcomePage { Outcomes = [.. _unpaged.GetRange(i * perPage, perPage).Select(a => _outcomes[a])] })));
        _unpaged.RemoveRange(0, keys.Length * perPage);
        // A list of its own, like the outcomes' dictionary in WriteAsync: the last write's provider may still be serialising
        // the old one.
        S.OutcomePages = [.. S.OutcomePages, .. keys];
    }

    /// <summary>Runs <paramref name="pageWork"/> for pages 0 to <paramref name="count"/> - 1, <see cref="PagesAtOnce"/> side by side.</summary>
    private static async Task ForEachPageAsync(int count, Func<int, Task> pageWork)
    {
        foreach (var chunk in Enumerable.Range(0, count).Chunk(PagesAtOnce)) await Task.WhenAll(chunk.Select(pageWork));
    }

    /// <summary>A page's row: the batch's id, with the page's key as its extension.</summary>
    private GrainId PageId(string key) => GrainId.Create(this.GetGrainId().Type, GrainIdKeyExtensions.CreateGuidKey(BatchId, key));

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == EventOutbox.ReminderName) await Events.OnReminderAsync();
        if (reminderName != ResumeReminder) return;
        if (S.Status == BatchStatus.Running && (S.Open is not null || S.Close is not null))
        {
            logger.LogInformation("Resuming batch {BatchId} with {Done} of {Total} subscribers done", BatchId, _outcomes.Count, S.Subscribers);
            await RunAsync();
        }
        else if (await this.GetReminder(ResumeReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    /// <summary>Registers the resume reminder, stores the accepted request, then runs.</summary>
    private async Task StartAsync()
    {
        // The accounts are read before the first write, so the started event can say how many subscribers the batch reaches.
        var accounts = await AccountsAsync();
        // The reminder first: a batch stored as running always has one to resume it after a crash. (Registered after the
        // write, a failed registration, say while a dead silo's reminders move, left a running batch nobody resumed.) A
        // reminder whose write then fails finds nothing running and retires itself.
        await this.RegisterOrUpdateReminder(ResumeReminder, retries.Value.Reminder, retries.Value.Reminder);
        S.Status = BatchStatus.Running;
        S.StartedAt = clock.GetUtcNow();
        S.Subscribers = accounts.Count;
        Events.Add(Progress(EventTypes.BatchStarted, $"batch:{BatchId:D}:started"));
        await WriteAsync();
        Events.Publish();
        await RunAsync(accounts);
    }

    private async Task<IReadOnlyList<string>> AccountsAsync() =>
        S.Kind == BatchKind.Open ? await SubscribersAsync(S.Open!.AgentId) : await OpenedAccountsAsync(S.Close!.OpenBatchId);

    /// <summary>
    /// Runs the steps not concluded yet; <paramref name="known"/> is the subscribers <see cref="StartAsync"/> read, on the first
    /// run only. A run a client's retry asks for does not count as a resume: a client re-sending its request while a silo is
    /// down would otherwise spend the resumes, and subscribers the reminder would still have reached would be given up on.
    /// </summary>
    private async Task RunAsync(IReadOnlyList<string>? known = null, bool byClientRetry = false)
    {
        _lastRunStarted = Stopwatch.GetTimestamp();
        var watch = Stopwatch.StartNew();
        var accounts = known ?? await AccountsAsync();
        S.Subscribers = accounts.Count;
        _completedBatches = await CompletedBatchesAsync();
        var feed = await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(S.Symbol)).GetViewAsync();
        var price = feed.Latest?.PriceUsd ?? 0m;
        var step = S.Kind == BatchKind.Open ? await OpenStepAsync(price) : null;

        var pending = accounts.Where(a => !_outcomes.ContainsKey(a)).ToList();
        var unreachable = new List<string>();
        // The kill switch holds for a fan-out already running: a resumed batch-open of a paused agent opens nothing more, and
        // each subscriber it had not reached is concluded as refused (the position decides if an earlier attempt opened).
        var resumedOpen = known is null && S.Kind == BatchKind.Open && pending.Count > 0;
        var paused = resumedOpen && (await GrainFactory.GetGrain<IAgentGrain>(S.Open!.AgentId).GetProfileAsync())?.Paused == true;
        // A resumed batch-open trades at the price of its resume, which must be one admission would take: a feed that went
        // stale, or holds an outlier, makes the run wait (as for an unreachable silo) instead of opening at a price the
        // market may have left.
        var unusablePrice = resumedOpen && !paused ? Unusable(feed, S.Symbol) : null;
        // Once the resumes are spent, a resumed run only asks the subscribers it could not conclude before.
        if (unusablePrice is not null) unreachable = pending;
        else if (!paused && S.Resumes < MaxResumes) (pending, unreachable) = await AttemptStepsAsync(pending, step, price, firstRun: known is not null);

        // A step that kept failing for a reason that will not heal by waiting (a bug, not an unreachable silo) is given
        // up on now; unreachable ones wait for the reminder, a bounded number of times, and are then given up on too.
        var givenUp = unreachable.Count > 0 && (byClientRetry || ++S.Resumes < MaxResumes) ? pending.Except(unreachable).ToList() : pending;
        var unknown = await ConcludeAsync(givenUp, step, paused ? AgentPaused : unusablePrice ?? StepFailed);
        if (unknown > 0 || givenUp.Count < pending.Count)
        {
            AddProgress();
            await WriteAsync();
            Events.Publish();
            return; // still Running: the reminder resumes the rest
        }

        if (!S.FeesCredited)
        {
            // One call per fee address per batch (idempotent on the batch id) instead of one per subscriber: an open credits the
            // fees it charged; a close takes back those of the orders it cancelled before they filled, which the accounts got
            // back with each order's settlement.
            foreach (var (feeAddress, totals) in FeeCharge.ByAddress(_outcomes.Values.Where(o => o.Success).SelectMany(o => o.Fees)))
            {
                var ledger = GrainFactory.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(S.Organization, feeAddress));
                if (S.Kind == BatchKind.Open) await ledger.CreditAsync($"batch:{BatchId:D}", totals);
                else await ledger.RefundAsync($"batch:{BatchId:D}", totals, byBatch: true);
            }
            S.FeesCredited = true;
        }
        S.Status = BatchStatus.Completed;
        S.CompletedAt = clock.GetUtcNow();
        Events.Add(Progress(EventTypes.BatchCompleted, $"batch:{BatchId:D}:completed"));
        await WriteAsync();
        Events.Publish();
        await ReportCompletedAsync();
        if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder);
        AgentDeskMetrics.FanOutDuration.Record(watch.Elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("kind", S.Kind.ToString()));
    }

    /// <summary>
    /// Runs the steps of <paramref name="pending"/>, each up to <see cref="StepAttempts"/> times; answers the accounts
    /// still without an outcome, and which of them failed only for reasons waiting may heal.
    /// </summary>
    private async Task<(List<string> Pending, List<string> Unreachable)> AttemptStepsAsync(List<string> pending, BatchOpenStep? step, decimal price,
        bool firstRun)
    {
        var lastCheckpoint = clock.GetUtcNow();
        var unreachable = new List<string>();
        for (var attempt = 1; attempt <= StepAttempts && pending.Count > 0; attempt++)
        {
            var retry = new List<string>();
            unreachable.Clear();
            // Only the first attempt of the first run is surely the first time a subscriber sees this step.
            if (step is not null && (attempt > 1 || !firstRun)) step = step with { MayRepeat = true };
            foreach (var chunk in pending.Chunk(options.Value.Parallelism))
            {
                var results = await Task.WhenAll(chunk.Select(account => StepAsync(account, step, price, attempt)));
                foreach (var (account, outcome, transient) in results)
                {
                    if (outcome is not null) RecordOutcome(account, outcome);
                    else
                    {
                        retry.Add(account);
                        if (transient) unreachable.Add(account);
                    }
                }
                // Each account stores its own step outcome before answering, so a resumed batch loses nothing it
                // did; the batch's copy is a checkpoint, written at most once a second to keep 10,000-subscriber
                // batches from rewriting a growing state after every chunk.
                if (clock.GetUtcNow() - lastCheckpoint >= CheckpointInterval)
                {
                    AddProgress();
                    await WriteAsync();
                    Events.Publish();
                    lastCheckpoint = clock.GetUtcNow();
                }
            }
            pending = retry;
        }
        return (pending, unreachable);
    }

    /// <summary>
    /// Gives up on the steps of <paramref name="accounts"/>. A failed call says nothing about what the step did: the
    /// account may have stored its step, or the position opened, before the answer was lost. So each outcome comes from
    /// the account and the position, which refuse the step for good if it has not happened; only then is it recorded
    /// as failed. Answers how many could not be asked (they are asked again at the next resume).
    /// </summary>
    private async Task<int> ConcludeAsync(IReadOnlyList<string> accounts, BatchOpenStep? step, Rejection refusal)
    {
        var unknown = 0;
        foreach (var chunk in accounts.Chunk(options.Value.Parallelism))
        {
            foreach (var (account, outcome) in await Task.WhenAll(chunk.Select(account => ConcludeStepAsync(account, step, refusal))))
            {
                if (outcome is not null) RecordOutcome(account, outcome);
                else unknown++;
            }
        }
        return unknown;
    }

    private async Task<(string Account, BatchStepOutcome? Outcome)> ConcludeStepAsync(string account, BatchOpenStep? step, Rejection refusal)
    {
        try
        {
            if (step is not null)
                return (account, await GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(S.Organization, account)).ConcludeBatchStepAsync(step, refusal));
            // A close that happened is answered as it happened (one pending at a venue outside the cluster is finished
            // first); one that did not is this subscriber's failure, and its position stays open for the agent (or its
            // exits) to close.
            var position = GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(S.Close!.AgentId, account, S.Symbol));
            return (account, CloseOutcome(account, await position.ConcludeCloseAsync(CloseId, StepFailed)));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Batch {BatchId}: could not learn what the step for {Account} did; it is asked again at the next resume", BatchId, account);
            return (account, null);
        }
    }

    /// <summary>One subscriber's step; an exception is returned as "no outcome yet", marked transient when waiting may heal it.</summary>
    private async Task<(string Account, BatchStepOutcome? Outcome, bool Transient)> StepAsync(string account, BatchOpenStep? step, decimal price, int attempt)
    {
        try
        {
            return (account, step is not null
                ? await GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(S.Organization, account)).OpenFromBatchAsync(step)
                : await CloseStepAsync(account, price), false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Batch {BatchId}: step for {Account} failed (attempt {Attempt})", BatchId, account, attempt);
            return (account, null, ClusterFailures.IsTransient(e));
        }
    }

    /// <summary>Why the symbol's price would not admit a batch-open now (none, stale, or an outlier held); null when it would.</summary>
    private Rejection? Unusable(PriceFeedView feed, string symbol) => feed.Latest is not { } latest
        ? new Rejection(Errors.NoPrice, $"There is no price for {symbol}; push one to /api/v1/prices first.")
        : PriceGuard.CheckFresh(new PriceQuote(latest.PriceUsd, latest.At), symbol, clock.GetUtcNow(), prices.Value.Policy)
            ?? PriceGuard.CheckNotHeld(feed.HeldPriceUsd, symbol);

    private static readonly Rejection AgentPaused =
        new(Errors.AgentPaused, "The agent was paused while the batch ran; nothing was traded for this subscriber.");

    private static readonly Rejection StepFailed =
        new(Errors.StepFailed, "This subscriber's step failed repeatedly; nothing was traded for it. See the silo logs.");

    private string CloseId => BatchCommandIds.For(BatchId);

    /// <summary>
    /// The agent's completed batches, handed to every step so accounts and positions forget their answers to them. Only a
    /// saving: if the agent cannot say, the steps carry none, and what they remember stays to its count bounds.
    /// </summary>
    private async Task<IReadOnlyList<Guid>> CompletedBatchesAsync()
    {
        try
        {
            return await Agent.GetCompletedBatchesAsync(S.Symbol);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Batch {BatchId}: could not read the agent's completed batches; its steps forget nothing", BatchId);
            return [];
        }
    }

    /// <summary>
    /// Tells the agent, once the completion is stored, that this batch will never send a step again (one-way: the batch
    /// does not wait on an agent busy with its intents). If the agent is not told, accounts and positions keep this
    /// batch's answers to their count bounds, as before.
    /// </summary>
    private async Task ReportCompletedAsync()
    {
        try
        {
            await Agent.BatchCompletedAsync(BatchId);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogWarning(e, "Batch {BatchId}: could not tell the agent it completed; its answers are kept to the count bounds", BatchId);
        }
    }

    private async Task<BatchOpenStep> OpenStepAsync(decimal price)
    {
        var request = S.Open!;
        var agent = await Agent.GetProfileAsync();
        return new BatchOpenStep(BatchId, request.AgentId, request.Symbol, request.Side, request.Weight, request.Leverage,
            agent?.Fees ?? [], risk.Value.FeeCaps, price, options.Value.PositionDecimals, null, request.TriggerPrice, request.StopLossPrice,
            request.TakeProfitPrice, request.TrailingStopPercentage, agent?.AgentType ?? Domain.Agents.AgentType.Perpetual,
            CompletedBatches: _completedBatches);
    }

    private async Task<BatchStepOutcome> CloseStepAsync(string account, decimal price)
    {
        var request = S.Close!;
        var position = GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(request.AgentId, account, S.Symbol));
        return CloseOutcome(account, await position.CloseAsync(new ClosePositionCommand(CloseId, CloseReasons.BatchClose, request.OpenBatchId, null,
            price, _completedBatches)));
    }

    private static BatchStepOutcome CloseOutcome(string account, Result<CloseReceipt> closed)
    {
        if (!closed.IsSuccess) return new BatchStepOutcome(account, false, null, false, 0m, [], null, closed.Problem);
        var result = closed.Value!;
        // A close's fees are those it handed back: an order cancelled before it filled.
        return new BatchStepOutcome(account, true, result.PositionId, result.Status == PositionStatus.Cancelled,
            0m, result.RefundedFees ?? [], result.Transaction, null, result.Skipped);
    }

    private async Task<IReadOnlyList<string>> SubscribersAsync(Guid agentId)
    {
        var subscribers = await SubscriberPages.ReadAllAsync(GrainFactory, agentId);
        // Accounts already handled stay in the batch even if they unsubscribed since: the result must cover them.
        return subscribers.Concat(_outcomes.Keys).Distinct().ToList();
    }

    private async Task<IReadOnlyList<string>> OpenedAccountsAsync(Guid openBatchId)
    {
        var opened = await GrainFactory.GetGrain<IBatchGrain>(openBatchId).GetAsync();
        return opened?.Results.Where(r => r.Success).Select(r => r.Account).ToList() ?? [];
    }

    /// <summary>A progress event at a checkpoint, named by how many subscribers are done (a resumed run never repeats one).</summary>
    private void AddProgress()
    {
        var done = _outcomes.Count;
        Events.Add(Progress(EventTypes.BatchProgress, $"batch:{BatchId:D}:progress:{done}"));
    }

    private EventDraft Progress(string type, string sourceKey)
    {
        var r = Result();
        var open = S.Open;
        return EventDrafts.Create(S.Organization, sourceKey, type, r.AgentId, null, S.Symbol, clock.GetUtcNow(),
            new BatchEventData(BatchId, S.Kind == BatchKind.Open ? "open" : "close", S.Status == BatchStatus.Running ? "running" : "completed", r.AgentId,
                S.Symbol, open?.Side.ToWire(), open?.Weight, open?.Leverage, S.Close?.OpenBatchId,
                r.Subscribers, r.Done, r.Successful, r.Failed, r.Skipped, S.StartedAt, S.CompletedAt));
    }

    private Result<BatchResult> Conflict() => Result<BatchResult>.Fail(Errors.IdempotencyConflict,
        $"Batch {BatchId} was already started with a different request.");

    private BatchResult Result()
    {
        var results = _outcomes.Values.ToArray();
        return new BatchResult(BatchId, S.Kind, S.Status, S.Open?.AgentId ?? S.Close!.AgentId, S.Symbol, S.Subscribers,
            results.Count(r => r.Success && !r.Skipped), results.Count(r => !r.Success), results.Count(r => r.Skipped),
            results, S.StartedAt, S.CompletedAt, S.Close?.OpenBatchId, S.Organization);
    }
}
