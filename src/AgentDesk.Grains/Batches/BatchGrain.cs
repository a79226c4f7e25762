using System.Diagnostics;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Sizing;
using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Grains.Batches;

public sealed class BatchState
{
    public BatchKind Kind { get; set; }
    /// <summary>The request as received, to tell a retry from a different request with the same id.</summary>
    public BatchOpenRequest? Requested { get; set; }

    /// <summary>The request as executed (symbol normalised, leverage resolved).</summary>
    public BatchOpenRequest? Open { get; set; }
    public BatchCloseRequest? Close { get; set; }
    public BatchStatus Status { get; set; }
    public string Symbol { get; set; } = "";
    public int Subscribers { get; set; }
    public Dictionary<string, BatchStepOutcome> Outcomes { get; set; } = [];
    public bool FeesCredited { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
}

/// <summary>Batch fan-out settings.</summary>
public sealed class BatchOptions
{
    /// <summary>Subscribers handled at once; their outcomes are stored after each chunk.</summary>
    public int Parallelism { get; set; } = 500;

    /// <summary>Token decimals for batch (perpetual) positions, whose size is synthetic.</summary>
    public int PositionDecimals { get; set; } = 8;

    public LeveragePolicy Leverage { get; set; } = LeveragePolicy.Default;
}

/// <summary>
/// Runs one batch. Outcomes are stored chunk by chunk; the per-subscriber steps are idempotent on
/// (batchId, account), so a batch resumed by its reminder after a silo failure finishes the same steps and
/// never opens a second position.
/// </summary>
[GrainType("batch")]
public sealed class BatchGrain(
    [PersistentState(StorageNames.Batch, StorageNames.Provider)] IPersistentState<BatchState> state,
    Microsoft.Extensions.Options.IOptions<BatchOptions> options,
    TimeProvider clock,
    ILogger<BatchGrain> logger) : Grain, IBatchGrain, IRemindable
{
    private const string ResumeReminder = "resume";
    private const int StepAttempts = 3;
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private BatchState S => state.State;
    private Guid BatchId => this.GetPrimaryKey();

    public async Task<Result<BatchResult>> OpenAsync(BatchOpenRequest request)
    {
        if (S.Open is not null || S.Close is not null)
        {
            if (S.Requested != request) return Conflict();
            if (S.Status == BatchStatus.Running) await RunAsync();
            return Result<BatchResult>.Ok(Result());
        }

        var agent = await GrainFactory.GetGrain<IAgentGrain>(request.AgentId).GetProfileAsync();
        if (agent is null) return Result<BatchResult>.Fail("agent_not_found", $"Agent {request.AgentId} is not registered.");
        if (TradeSizing.ValidateWeight(request.Weight) is { } badWeight) return Result<BatchResult>.Fail(badWeight.ToProblem());
        var agentType = AgentTypes.Parse(agent.AgentType)!.Value;
        if (agentType == AgentType.Swap && request.Side == TradeSide.Short)
            return Result<BatchResult>.Fail("short_not_allowed", "SWAP agents trade spot: SHORT is not available.");
        var leverage = options.Value.Leverage.Resolve(agentType, request.Symbol, request.Leverage);
        if (!leverage.IsSuccess) return Result<BatchResult>.Fail(leverage.Rejection!.ToProblem());
        if (request.TriggerPrice < 0) return Result<BatchResult>.Fail("invalid_trigger_price", "triggerPrice must be 0 (unset) or positive.");
        var price = await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(request.Symbol)).GetLatestAsync();
        if (price is null)
            return Result<BatchResult>.Fail("no_price", $"There is no price for {request.Symbol}; push one to /api/v1/prices first.");
        var reference = request.TriggerPrice > 0 ? request.TriggerPrice : price.PriceUsd;
        var exits = AbsoluteExits.Build(request.Side.ToDomain(), reference, request.StopLossPrice, request.TakeProfitPrice, request.TrailingStopPercentage);
        if (!exits.IsSuccess) return Result<BatchResult>.Fail(exits.Rejection!.ToProblem());

        S.Kind = BatchKind.Open;
        S.Requested = request;
        S.Open = request with { Symbol = request.Symbol.ToUpperInvariant(), Leverage = leverage.Value };
        S.Symbol = S.Open.Symbol;
        S.Status = BatchStatus.Running;
        S.StartedAt = clock.GetUtcNow();
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ResumeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await RunAsync();
        return Result<BatchResult>.Ok(Result());
    }

    public async Task<Result<BatchResult>> CloseAsync(BatchCloseRequest request)
    {
        if (S.Open is not null || S.Close is not null)
        {
            if (S.Close != request) return Conflict();
            if (S.Status == BatchStatus.Running) await RunAsync();
            return Result<BatchResult>.Ok(Result());
        }
        var opened = await GrainFactory.GetGrain<IBatchGrain>(request.OpenBatchId).GetAsync();
        if (opened is null || opened.Kind != BatchKind.Open || opened.AgentId != request.AgentId)
            return Result<BatchResult>.Fail("batch_not_found", $"Agent {request.AgentId} has no batch-open {request.OpenBatchId}.");

        S.Kind = BatchKind.Close;
        S.Close = request;
        S.Symbol = opened.Symbol;
        S.Status = BatchStatus.Running;
        S.StartedAt = clock.GetUtcNow();
        await state.WriteStateAsync();
        await this.RegisterOrUpdateReminder(ResumeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await RunAsync();
        return Result<BatchResult>.Ok(Result());
    }

    public Task<BatchResult?> GetAsync() => Task.FromResult(S.Open is null && S.Close is null ? null : Result());

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ResumeReminder) return;
        if (S.Status == BatchStatus.Running && (S.Open is not null || S.Close is not null))
        {
            logger.LogInformation("Resuming batch {BatchId} with {Done} of {Total} subscribers done", BatchId, S.Outcomes.Count, S.Subscribers);
            await RunAsync();
        }
        else
        {
            var reminder = await this.GetReminder(ResumeReminder);
            if (reminder is not null) await this.UnregisterReminder(reminder);
        }
    }

    private async Task RunAsync()
    {
        var watch = Stopwatch.StartNew();
        var accounts = S.Kind == BatchKind.Open ? await SubscribersAsync(S.Open!.AgentId) : await OpenedAccountsAsync(S.Close!.OpenBatchId);
        S.Subscribers = accounts.Count;
        var price = (await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(S.Symbol)).GetLatestAsync())?.PriceUsd ?? 0m;
        var step = S.Kind == BatchKind.Open ? await OpenStepAsync(price) : null;

        var pending = accounts.Where(a => !S.Outcomes.ContainsKey(a)).ToList();
        var lastCheckpoint = clock.GetUtcNow();
        for (var attempt = 1; attempt <= StepAttempts && pending.Count > 0; attempt++)
        {
            var failedThisRound = new List<string>();
            foreach (var chunk in pending.Chunk(Math.Max(1, options.Value.Parallelism)))
            {
                var results = await Task.WhenAll(chunk.Select(async account =>
                {
                    try
                    {
                        return (account, outcome: step is not null
                            ? await GrainFactory.GetGrain<ISubscriberGrain>(GrainKeys.Account(account)).OpenFromBatchAsync(step)
                            : await CloseStepAsync(account, price));
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        logger.LogWarning(e, "Batch {BatchId}: step for {Account} failed (attempt {Attempt})", BatchId, account, attempt);
                        return (account, outcome: (BatchStepOutcome?)null);
                    }
                }));
                foreach (var (account, outcome) in results)
                {
                    if (outcome is null) failedThisRound.Add(account);
                    else S.Outcomes[account] = outcome;
                }
                // Each account stores its own step outcome before answering, so a resumed batch loses nothing it
                // did; the batch's copy is a checkpoint, written at most once a second to keep 10,000-subscriber
                // batches from rewriting a growing state after every chunk.
                if (clock.GetUtcNow() - lastCheckpoint >= CheckpointInterval)
                {
                    await state.WriteStateAsync();
                    lastCheckpoint = clock.GetUtcNow();
                }
            }
            pending = failedThisRound;
        }

        if (pending.Count > 0)
        {
            await state.WriteStateAsync();
            return; // still Running: the reminder resumes the rest
        }

        if (S.Kind == BatchKind.Open && !S.FeesCredited)
        {
            // One credit per fee address per batch (idempotent on the batch id) instead of one per subscriber.
            foreach (var byAddress in S.Outcomes.Values.Where(o => o.Success).SelectMany(o => o.Fees).GroupBy(f => f.FeeAddress.ToLowerInvariant()))
                await GrainFactory.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(byAddress.Key)).CreditAsync($"batch:{BatchId:D}",
                    byAddress.GroupBy(f => f.Partner).Select(g => new FeeChargeMessage(g.Key, byAddress.Key, g.Sum(f => f.AmountUsdc))).ToArray());
            S.FeesCredited = true;
        }
        S.Status = BatchStatus.Completed;
        S.CompletedAt = clock.GetUtcNow();
        await state.WriteStateAsync();
        var reminder = await this.GetReminder(ResumeReminder);
        if (reminder is not null) await this.UnregisterReminder(reminder);
        AgentDeskMetrics.FanOutDuration.Record(watch.Elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("kind", S.Kind.ToString()));
    }

    private async Task<BatchOpenStep> OpenStepAsync(decimal price)
    {
        var request = S.Open!;
        var agent = await GrainFactory.GetGrain<IAgentGrain>(request.AgentId).GetProfileAsync();
        return new BatchOpenStep(BatchId, request.AgentId, request.Symbol, request.Side, request.Weight, request.Leverage,
            agent?.Fees ?? [], price, options.Value.PositionDecimals, request.TriggerPrice, request.StopLossPrice,
            request.TakeProfitPrice, request.TrailingStopPercentage);
    }

    private async Task<BatchStepOutcome> CloseStepAsync(string account, decimal price)
    {
        var request = S.Close!;
        var position = GrainFactory.GetGrain<IPositionGrain>(GrainKeys.Position(request.AgentId, account, S.Symbol));
        var closed = await position.CloseAsync(new ClosePositionCommand($"batch:{BatchId:D}", "batch_close", request.OpenBatchId, null, price));
        if (!closed.IsSuccess) return new BatchStepOutcome(account, false, null, false, 0m, [], null, closed.Problem);
        var result = closed.Value!;
        return new BatchStepOutcome(account, true, result.Position?.PositionId, result.Position?.Status == PositionStatus.Cancelled,
            0m, [], result.Transaction, null, result.Skipped);
    }

    private async Task<IReadOnlyList<string>> SubscribersAsync(Guid agentId)
    {
        var agent = GrainFactory.GetGrain<IAgentGrain>(agentId);
        var pages = await agent.GetSubscriberPageCountAsync();
        var lists = await Task.WhenAll(Enumerable.Range(0, pages)
            .Select(p => GrainFactory.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(agentId, p)).GetAccountsAsync()));
        // Accounts already handled stay in the batch even if they unsubscribed since: the result must cover them.
        return lists.SelectMany(l => l).Concat(S.Outcomes.Keys).Distinct().ToList();
    }

    private async Task<IReadOnlyList<string>> OpenedAccountsAsync(Guid openBatchId)
    {
        var opened = await GrainFactory.GetGrain<IBatchGrain>(openBatchId).GetAsync();
        return opened?.Results.Where(r => r.Success).Select(r => r.Account).ToList() ?? [];
    }

    private Result<BatchResult> Conflict() => Result<BatchResult>.Fail("idempotency_conflict",
        $"Batch {BatchId} was already started with a different request.");

    private BatchResult Result()
    {
        var results = S.Outcomes.Values.ToArray();
        return new BatchResult(BatchId, S.Kind, S.Status, S.Open?.AgentId ?? S.Close!.AgentId, S.Symbol, S.Subscribers,
            results.Count(r => r.Success && !r.Skipped), results.Count(r => !r.Success), results.Count(r => r.Skipped),
            results, S.StartedAt, S.CompletedAt, S.Close?.OpenBatchId);
    }
}
