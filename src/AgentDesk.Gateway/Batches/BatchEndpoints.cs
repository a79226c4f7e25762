using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Hosting;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Batches;

/// <summary><c>orderOptions</c>: 0 (or absent) means unset. <c>trailingStopPercentage</c> is this project's addition.</summary>
public sealed record OrderOptions(decimal? TriggerPrice, decimal? StopLossPrice, decimal? TakeProfitPrice, decimal? TrailingStopPercentage) : IRequestBody;

/// <summary><c>POST /agent/batch-open</c> (docs/api.md, "Batches").</summary>
public sealed record BatchOpenBody(
    [property: Required] string? AgentId, [property: Required] string? Symbol, [property: Required] string? Action,
    [property: Required] decimal? Weight, [property: Required] decimal? Leverage, OrderOptions? OrderOptions) : IRequestBody;

public sealed record BatchCloseBody([property: Required] string? AgentId, [property: Required] string? BatchId) : IRequestBody;

public sealed record BatchTradeResult(
    bool Success, string? ProtocolOrderHash, string? ProtocolPositionHash, string? SymphonyPositionHash, string? IntentHash,
    long? SrcChainId, string? SubmitTxHash, string? SubmitExplorerUrl, long? DstChainId, string? ExecuteTxHash, string? ExecuteExplorerUrl,
    int? AdjustedFansToAdd, int? NewFanCount, string? PositionId, bool? Simulated, string? Error, string? Code);

public sealed record BatchAccountResult(string SmartAccount, BatchTradeResult Result);

public sealed record BatchOpenResponse(string Message, Guid BatchId, int Successful, int Failed, IReadOnlyList<BatchAccountResult> Results);

public sealed record BatchCloseResult(bool Success, string? TxHash, long? ChainId, bool? Skipped, string? Message, string? Error, string? Code);

public sealed record BatchCloseAccountResult(string SmartAccount, BatchCloseResult Result);

public sealed record BatchCloseResponse(string Message, Guid BatchId, int Successful, int Skipped, int Failed, IReadOnlyList<BatchCloseAccountResult> Results);

/// <summary>
/// A batch still running when the request's budget ran out, or one waiting for its reminder to reach the subscribers it
/// could not reach yet: poll <see cref="StatusUrl"/>; it never stops half-way.
/// </summary>
public sealed record BatchAccepted(string Message, Guid BatchId, string Status, string StatusUrl, int Subscribers, int Done);

public static class BatchEndpoints
{
    public static void MapBatchEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").RequireAuthorization(Policies.Operator).WithTags("Batches");
        group.MapPost("/agent/batch-open", OpenAsync).WithName("batchOpen")
            .WithSummary("Open a trade for every subscriber of an agent. Send Idempotency-Key to make retries safe.")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound, Errors.AgentPaused, Errors.InvalidSymbol, Errors.InvalidAction, Errors.InvalidWeight,
                Errors.LeverageTooLow, Errors.LeverageTooHigh, Errors.ShortNotAllowed, Errors.NoPrice, Errors.StalePrice, Errors.PriceHeld, Errors.InvalidTriggerPrice,
                Errors.InvalidStopLossPrice, Errors.InvalidTakeProfitPrice, Errors.InvalidTrailingStop, Errors.InvalidExitPrice, Errors.InvalidId,
                Errors.IdempotencyConflict);
        group.MapPost("/agent/batch-close", CloseAsync).WithName("batchClose")
            .WithSummary("Close every position and cancel every order a batch opened")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound, Errors.InvalidBatchId, Errors.BatchNotFound, Errors.BatchRunning, Errors.InvalidId,
                Errors.IdempotencyConflict);
        group.MapGet("/api/v1/batches/{batchId}", GetAsync).WithName("getBatch").WithSummary("Batch progress and per-subscriber outcomes")
            .ProducesErrors(Errors.InvalidBatchId, Errors.BatchNotFound);
    }

    private static async Task<Results<Ok<BatchOpenResponse>, Accepted<BatchAccepted>, ProblemHttpResult>> OpenAsync(BatchOpenBody request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, IClusterClient cluster, IOptions<GatewayOptions> options)
    {
        var found = await AgentLookup.FindAsync(cluster, user, request.AgentId);
        if (found.Rejection is { } missing) return ApiProblems.For(missing);
        var agent = found.Agent!;
        if (!Symbols.IsValid(request.Symbol)) return ApiProblems.For(Errors.InvalidSymbol, "symbol is required: 1 to 16 letters or digits, such as SOL.");
        if (SideExtensions.Parse(request.Action) is not { } side)
            return ApiProblems.For(Errors.InvalidAction, $"action must be LONG or SHORT; got '{AgentLookup.Truncate(request.Action)}'.");
        if (request.Weight is not { } weight) return ApiProblems.For(Errors.InvalidWeight, "weight is required (0 < weight ≤ 100).");
        if (request.Leverage is not { } leverage) return ApiProblems.For(Errors.LeverageTooLow, "leverage is required (minimum 1.1).");
        if (BatchIdFor(agent.Id, "open", idempotencyKey) is not { } batchId)
            return ApiProblems.For(Errors.InvalidId, $"Idempotency-Key is 1 to {ClientIds.MaxLength} printable characters.");
        var orderOptions = request.OrderOptions ?? new OrderOptions(0, 0, 0, 0);
        var batch = cluster.GetGrain<IBatchGrain>(batchId);
        var open = new BatchOpenRequest(agent.Id, request.Symbol, side, weight, leverage, orderOptions.TriggerPrice ?? 0,
            orderOptions.StopLossPrice ?? 0, orderOptions.TakeProfitPrice ?? 0, orderOptions.TrailingStopPercentage ?? 0);
        if (await WithinBudgetAsync(batch, batch.OpenAsync(open), () => batch.CheckSameRequestAsync(open, null), options.Value) is not { } result)
            return await AcceptedAsync(batch, batchId);
        if (!result.IsSuccess) return ApiProblems.For(result.Problem!);
        var done = result.Value!;
        return TypedResults.Ok(new BatchOpenResponse("Batch open trade submitted", done.BatchId, done.Successful, done.Failed,
            done.Results.Select(r => new BatchAccountResult(r.Account, OpenResult(done.BatchId, r, agent.Profile.SubscriberCount))).ToList()));
    }

    private static async Task<Results<Ok<BatchCloseResponse>, Accepted<BatchAccepted>, ProblemHttpResult>> CloseAsync(BatchCloseBody request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, IClusterClient cluster, IOptions<GatewayOptions> options)
    {
        var found = await AgentLookup.FindAsync(cluster, user, request.AgentId);
        if (found.Rejection is { } missing) return ApiProblems.For(missing);
        if (!Guid.TryParse(request.BatchId, out var openBatchId)) return ApiProblems.For(Errors.InvalidBatchId, "batchId must be a UUID.");
        if (BatchIdFor(found.Agent!.Id, "close", idempotencyKey) is not { } closeBatchId)
            return ApiProblems.For(Errors.InvalidId, $"Idempotency-Key is 1 to {ClientIds.MaxLength} printable characters.");
        var batch = cluster.GetGrain<IBatchGrain>(closeBatchId);
        var close = new BatchCloseRequest(found.Agent.Id, openBatchId);
        if (await WithinBudgetAsync(batch, batch.CloseAsync(close), () => batch.CheckSameRequestAsync(null, close), options.Value) is not { } result)
            return await AcceptedAsync(batch, closeBatchId);
        if (!result.IsSuccess) return ApiProblems.For(result.Problem!);
        var done = result.Value!;
        return TypedResults.Ok(new BatchCloseResponse("Batch close trade submitted", done.BatchId, done.Successful, done.Skipped, done.Failed,
            done.Results.Select(r => new BatchCloseAccountResult(r.Account, !r.Success
                ? new BatchCloseResult(false, null, null, null, null, r.Problem?.Message, r.Problem?.Code.Code)
                : r.Skipped
                    ? new BatchCloseResult(true, null, null, true, "Skipped closed trade", null, null)
                    : new BatchCloseResult(true, r.Transaction?.Hash, r.Transaction?.ChainId, null, r.IsOrder ? "Order cancelled" : null, null, null))).ToList()));
    }

    private static async Task<Results<Ok<BatchResult>, ProblemHttpResult>> GetAsync(string batchId, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(batchId, out var id)) return ApiProblems.For(Errors.InvalidBatchId, "batchId must be a UUID.");
        var batch = await cluster.GetGrain<IBatchGrain>(id).GetAsync();
        return batch is null || !user.CanSee(batch.Organization)
            ? ApiProblems.For(Errors.BatchNotFound, $"Batch {id} does not exist.")
            : TypedResults.Ok(batch);
    }

    /// <summary>
    /// The same Idempotency-Key from the same agent always reaches the same batch grain (and a close never shares an
    /// open's); without a key every request is a new batch. Null when the key is not an acceptable id.
    /// </summary>
    private static Guid? BatchIdFor(Guid agentId, string kind, string? idempotencyKey)
    {
        if (idempotencyKey is null) return Guid.NewGuid();
        if (!ClientIds.IsValid(idempotencyKey)) return null;
        var prefix = kind == "open" ? "" : "close|";
        return new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"{prefix}{agentId:D}|{idempotencyKey}")).AsSpan(0, 16));
    }

    /// <summary>
    /// The batch's answer if it comes within the request budget and the batch has completed; otherwise null once the
    /// batch has stored the request (it keeps running and its status URL answers). A batch also answers early when some
    /// subscribers could not be reached: it has stored its progress and its reminder retries them, so that is a 202 too,
    /// never a 200 that a client would take for the outcome. A batch that has not stored the request yet, say because a
    /// silo it needs is failing, is waited for: its answer, or its failure as a retryable 503, never a 202 for nothing.
    /// A request that is not the one the batch stored (the same Idempotency-Key with another body) is a conflict at once,
    /// not a 202 for a batch that is not its own.
    /// </summary>
    private static async Task<Contracts.Common.Result<BatchResult>?> WithinBudgetAsync(IBatchGrain batch, Task<Contracts.Common.Result<BatchResult>> call,
        Func<Task<Rejection?>> checkSameRequest, GatewayOptions options)
    {
        var next = Task.Delay(TimeSpan.FromSeconds(options.BatchBudgetSeconds));
        while (await Task.WhenAny(call, next) != call)
        {
            BatchResult? stored;
            try
            {
                stored = await batch.GetAsync();
            }
            catch (Exception e) when (ClusterFailures.IsTransient(e))
            {
                stored = null;
            }
            if (stored is not null)
            {
                // Nobody waits for the late answer; observe it so its eventual timeout is not an unobserved exception.
                _ = call.ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                return await checkSameRequest() is { } conflict ? Contracts.Common.Result<BatchResult>.Fail(conflict) : null;
            }
            next = Task.Delay(TimeSpan.FromMilliseconds(250));
        }
        var answer = await call;
        return answer is { IsSuccess: true, Value.Status: not BatchStatus.Completed } ? null : answer;
    }

    private static async Task<Accepted<BatchAccepted>> AcceptedAsync(IBatchGrain batch, Guid batchId)
    {
        var statusUrl = $"/api/v1/batches/{batchId:D}";
        var progress = await batch.GetAsync();
        return TypedResults.Accepted(statusUrl, new BatchAccepted("Batch accepted and still running; poll statusUrl for its outcome.", batchId,
            nameof(BatchStatus.Running), statusUrl, progress?.Subscribers ?? 0, progress?.Done ?? 0));
    }

    private static BatchTradeResult OpenResult(Guid batchId, BatchStepOutcome outcome, int fans)
    {
        if (!outcome.Success)
            return new BatchTradeResult(false, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                outcome.Problem?.Message, outcome.Problem?.Code.Code);
        var tx = outcome.Transaction;
        // Identifiers shown as hashes are derived from the position and batch, so they are stable per position (docs/api.md).
        string Derived(string what) => Hex.Encode(Eip712Encoding.Keccak(Encoding.UTF8.GetBytes($"{what}:{outcome.PositionId}:{batchId:D}")));
        return new BatchTradeResult(true, outcome.IsOrder ? Derived("order") : null, outcome.IsOrder ? null : Derived("position"), Derived("symphony"),
            Derived("intent"), tx?.ChainId, tx?.Hash, tx?.ExplorerUrl, tx?.ChainId, tx?.Hash, tx?.ExplorerUrl, 0, fans, outcome.PositionId,
            tx?.Simulated ?? true, null, null);
    }
}
