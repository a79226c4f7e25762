using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Batches;

public sealed record OrderOptions(decimal? TriggerPrice, decimal? StopLossPrice, decimal? TakeProfitPrice, decimal? TrailingStopPercentage);

/// <summary><c>POST /agent/batch-open</c> (seed 000). <c>orderOptions.trailingStopPercentage</c> is this project's addition.</summary>
public sealed record BatchOpenBody(string? AgentId, string? Symbol, string? Action, decimal? Weight, decimal? Leverage, OrderOptions? OrderOptions);

public sealed record BatchCloseBody(string? AgentId, string? BatchId);

public sealed record BatchTradeResult(
    bool Success, string? ProtocolOrderHash, string? ProtocolPositionHash, string? SymphonyPositionHash, string? IntentHash,
    int? SrcChainId, string? SubmitTxHash, string? SubmitExplorerUrl, int? DstChainId, string? ExecuteTxHash, string? ExecuteExplorerUrl,
    int? AdjustedFansToAdd, int? NewFanCount, string? PositionId, bool? Simulated, string? Error, string? Code);

public sealed record BatchAccountResult(string SmartAccount, BatchTradeResult Result);

public sealed record BatchOpenResponse(string Message, Guid BatchId, int Successful, int Failed, IReadOnlyList<BatchAccountResult> Results);

public sealed record BatchCloseResult(bool Success, string? TxHash, int? ChainId, bool? Skipped, string? Message, string? Error, string? Code);

public sealed record BatchCloseAccountResult(string SmartAccount, BatchCloseResult Result);

public sealed record BatchCloseResponse(string Message, Guid BatchId, int Successful, int Skipped, int Failed, IReadOnlyList<BatchCloseAccountResult> Results);

public static class BatchEndpoints
{
    public static void MapBatchEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("").RequireAuthorization(Policies.Operator).WithTags("Batches");
        group.MapPost("/agent/batch-open", OpenAsync).Accepts<BatchOpenBody>("application/json").Produces<BatchOpenResponse>()
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("Open a trade for every subscriber of an agent (seed 000). Send Idempotency-Key to make retries safe.");
        group.MapPost("/agent/batch-close", CloseAsync).Accepts<BatchCloseBody>("application/json").Produces<BatchCloseResponse>()
            .WithSummary("Close every position and cancel every order a batch opened (seed 000)");
        group.MapGet("/api/v1/batches/{batchId}", GetAsync).Produces<BatchResult>().ProducesProblem(404)
            .WithSummary("Batch progress and per-subscriber outcomes");
    }

    private static async Task<IResult> OpenAsync(HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var body = await Json.ReadAsync<BatchOpenBody>(http);
        if (body.Error is not null) return body.Error;
        var request = body.Value!;
        var found = await AgentAccess.FindAsync(cluster, user, request.AgentId ?? "");
        if (found.Error is not null) return found.Error;
        if (!Symbols.IsValid(request.Symbol))
            return Problems.Result("invalid_symbol", "symbol is required: letters and digits, such as SOL.");
        if (SideExtensions.Parse(request.Action) is not { } side) return Problems.Result("invalid_action", $"action must be LONG or SHORT; got '{request.Action}'.");
        if (request.Weight is not { } weight) return Problems.Result("invalid_weight", "weight is required (0 < weight ≤ 100).");
        if (request.Leverage is not { } leverage) return Problems.Result("leverage_too_low", "leverage is required (minimum 1.1).");
        var options = request.OrderOptions ?? new OrderOptions(0, 0, 0, 0);

        // The same Idempotency-Key from the same agent always reaches the same batch grain.
        var batchId = http.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } key
            ? new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"{found.Id:D}|{key}")).AsSpan(0, 16))
            : Guid.NewGuid();
        var result = await cluster.GetGrain<IBatchGrain>(batchId).OpenAsync(new BatchOpenRequest(found.Id, request.Symbol, side == Side.Long ? TradeSide.Long : TradeSide.Short,
            weight, leverage, options.TriggerPrice ?? 0, options.StopLossPrice ?? 0, options.TakeProfitPrice ?? 0, options.TrailingStopPercentage ?? 0));
        if (!result.IsSuccess) return Problems.From(result.Problem!);
        var batch = result.Value!;
        var fans = await cluster.GetGrain<IAgentGrain>(found.Id).GetSubscriberCountAsync();
        return Results.Ok(new BatchOpenResponse("Batch open trade submitted", batch.BatchId, batch.Successful, batch.Failed,
            batch.Results.Select(r => new BatchAccountResult(r.Account, OpenResult(batch.BatchId, r, fans))).ToList()));
    }

    private static BatchTradeResult OpenResult(Guid batchId, BatchStepOutcome outcome, int fans)
    {
        if (!outcome.Success)
            return new BatchTradeResult(false, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                outcome.Problem?.Message, outcome.Problem?.Code);
        var tx = outcome.Transaction;
        // Identifiers the seed shows as hashes are derived from the position and batch, so they are stable per position.
        string Derived(string what) => Hex.Encode(Eip712Encoding.Keccak(Encoding.UTF8.GetBytes($"{what}:{outcome.PositionId}:{batchId:D}")));
        return new BatchTradeResult(true, outcome.IsOrder ? Derived("order") : null, outcome.IsOrder ? null : Derived("position"), Derived("symphony"),
            Derived("intent"), tx?.ChainId, tx?.Hash, tx?.ExplorerUrl, tx?.ChainId, tx?.Hash, tx?.ExplorerUrl, 0, fans, outcome.PositionId,
            tx?.Simulated ?? true, null, null);
    }

    private static async Task<IResult> CloseAsync(HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var body = await Json.ReadAsync<BatchCloseBody>(http);
        if (body.Error is not null) return body.Error;
        var found = await AgentAccess.FindAsync(cluster, user, body.Value!.AgentId ?? "");
        if (found.Error is not null) return found.Error;
        if (!Guid.TryParse(body.Value.BatchId, out var openBatchId)) return Problems.Result("invalid_batch_id", "batchId must be a UUID.");
        var closeBatchId = http.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 } key
            ? new Guid(SHA256.HashData(Encoding.UTF8.GetBytes($"close|{found.Id:D}|{key}")).AsSpan(0, 16))
            : Guid.NewGuid();
        var result = await cluster.GetGrain<IBatchGrain>(closeBatchId).CloseAsync(new BatchCloseRequest(found.Id, openBatchId));
        if (!result.IsSuccess) return Problems.From(result.Problem!);
        var batch = result.Value!;
        return Results.Ok(new BatchCloseResponse("Batch close trade submitted", batch.BatchId, batch.Successful, batch.Skipped, batch.Failed,
            batch.Results.Select(r => new BatchCloseAccountResult(r.Account, !r.Success
                ? new BatchCloseResult(false, null, null, null, null, r.Problem?.Message, r.Problem?.Code)
                : r.Skipped
                    ? new BatchCloseResult(true, null, null, true, "Skipped closed trade", null, null)
                    : new BatchCloseResult(true, r.Transaction?.Hash, r.Transaction?.ChainId, null, r.IsOrder ? "Order cancelled" : null, null, null))).ToList()));
    }

    private static async Task<IResult> GetAsync(string batchId, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(batchId, out var id)) return Problems.Result("invalid_batch_id", "batchId must be a UUID.");
        var batch = await cluster.GetGrain<IBatchGrain>(id).GetAsync();
        if (batch is null || (await AgentAccess.FindAsync(cluster, user, batch.AgentId.ToString())).Error is not null)
            return Problems.Result("batch_not_found", $"Batch {id} does not exist.");
        return Results.Ok(batch);
    }
}
