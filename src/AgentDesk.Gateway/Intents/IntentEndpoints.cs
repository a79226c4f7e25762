using System.Text.Json;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Intents;

/// <summary>
/// A signed intent in seed 002's agent-friendly form. Open: symbol, usdcAmount, minTokenOut, maxSlippageBps,
/// exits. Add: symbol, usdcAmount, minTokenOut, maxSlippageBps. Reduce: symbol, tokenAmount, minUsdcOut,
/// maxSlippageBps. Exit ladder: symbol, exits. All carry deadline, nonce and signature. Amounts are decimal
/// strings in human units ("100" is 100 USDC).
/// </summary>
public sealed record IntentBody(
    string? Symbol, string? UsdcAmount, string? MinTokenOut, string? TokenAmount, string? MinUsdcOut, int? MaxSlippageBps,
    IReadOnlyList<ExitRuleMessage>? Exits, long? Deadline, long? Nonce, string? Signature);

public sealed record IntentResponse(
    string PositionId, string? TransactionHash, string? ExplorerUrl, bool Simulated, long Nonce, string Symbol, string Status,
    decimal Size, decimal EntryPrice, decimal RealizedPnlUsdc, IReadOnlyList<ExitRuleMessage> PendingExits);

public sealed record QuoteToken(string Symbol, string Address, int Decimals);
public sealed record QuoteVault(string VaultId, string Address, QuoteToken Token);
public sealed record QuoteAllocation(decimal AllocationUsdc, decimal DeployedUsdc, decimal HeadroomUsdc, decimal MaxTradeSizeUsdc,
    decimal DailyTurnoverHeadroomUsdc, decimal DailyLossHeadroomUsdc);
public sealed record QuoteExitBounds(int MaxStopLossBps, int MinTakeProfitBps, int MaxTakeProfitBps, bool RequireStopLoss, bool RequireTakeProfit);
public sealed record QuoteResponse(string PrimaryType, long Nonce, string Track, QuoteVault Vault, QuoteAllocation Allocation, QuoteExitBounds ExitBounds, JsonElement TypedData);

public static class IntentEndpoints
{
    private static readonly (string Path, IntentKind Kind)[] Routes =
    [
        ("trade-intents", IntentKind.OpenPosition),
        ("add-intents", IntentKind.AddToPosition),
        ("reduce-intents", IntentKind.ReducePosition),
        ("exit-ladder-intents", IntentKind.UpdateExitLadder),
    ];

    public static void MapIntentEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/agents/{agentId}").WithTags("Intents");
        foreach (var (path, kind) in Routes)
        {
            group.MapPost($"/{path}", (string agentId, HttpRequest http, IClusterClient cluster) => SubmitAsync(agentId, kind, http, cluster))
                .Accepts<IntentBody>("application/json").Produces<IntentResponse>().ProducesProblem(400).ProducesProblem(404).ProducesProblem(409)
                .WithSummary($"Submit a signed {kind} intent (seed 002; authenticated by the agent's EIP-712 signature)");
            var quote = kind == IntentKind.OpenPosition ? $"/{path}/quote" : $"/{path}";
            group.MapGet(quote, (string agentId, string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount, string? minUsdcOut,
                    int? maxSlippageBps, string? exits, long? deadline, IClusterClient cluster) =>
                    QuoteAsync(agentId, kind, new QuoteQuery(symbol, usdcAmount, minTokenOut, tokenAmount, minUsdcOut, maxSlippageBps, exits, deadline), cluster))
                .Produces<QuoteResponse>().ProducesProblem(400).ProducesProblem(404)
                .WithSummary($"Quote a {kind} intent: the typed data to sign, nonce, vault binding, headroom and exit bounds");
        }
    }

    private sealed record QuoteQuery(string? Symbol, string? UsdcAmount, string? MinTokenOut, string? TokenAmount, string? MinUsdcOut,
        int? MaxSlippageBps, string? Exits, long? Deadline);

    private static async Task<IResult> SubmitAsync(string agentId, IntentKind kind, HttpRequest http, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, null, agentId, publicRead: true);
        if (found.Error is not null) return found.Error;
        var body = await Json.ReadAsync<IntentBody>(http);
        if (body.Error is not null) return body.Error;
        var request = body.Value!;
        if (request.Nonce is not { } nonce || nonce < 0) return Problems.Result("invalid_nonce", "nonce is required: the agent's current nonce from a quote.");
        if (request.Deadline is not { } deadline) return Problems.Result("invalid_deadline", "deadline is required (unix seconds).");
        if (string.IsNullOrWhiteSpace(request.Signature)) return Problems.Result("invalid_signature", "signature is required (0x r‖s‖v hex).");
        var submission = ToSubmission(kind, request.Symbol, request.UsdcAmount, request.MinTokenOut, request.TokenAmount, request.MinUsdcOut,
            request.MaxSlippageBps, request.Exits, deadline, nonce, request.Signature, requireAmounts: true);
        if (submission.Error is not null) return submission.Error;

        var executed = await cluster.GetGrain<IAgentGrain>(found.Id).ExecuteIntentAsync(submission.Value!);
        if (!executed.IsSuccess) return Problems.From(executed.Problem!);
        var result = executed.Value!;
        var position = result.Position!;
        var tx = result.Transaction;
        return Results.Ok(new IntentResponse(position.PositionId, tx?.Hash, tx?.ExplorerUrl, tx?.Simulated ?? true, result.Nonce, position.Symbol,
            position.Status.ToString().ToUpperInvariant(), position.Size, position.EntryPrice, result.RealizedPnlUsdc, position.PendingExits));
    }

    private static async Task<IResult> QuoteAsync(string agentId, IntentKind kind, QuoteQuery query, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, null, agentId, publicRead: true);
        if (found.Error is not null) return found.Error;
        IReadOnlyList<ExitRuleMessage>? exits = null;
        if (query.Exits is { Length: > 0 })
        {
            try
            {
                exits = JsonSerializer.Deserialize<List<ExitRuleMessage>>(query.Exits, Json.Options);
            }
            catch (JsonException)
            {
                return Problems.Result("invalid_exits", "exits must be a JSON array of { triggerType, triggerBps, exitBps }.");
            }
        }
        var draft = ToSubmission(kind, query.Symbol, query.UsdcAmount, query.MinTokenOut, query.TokenAmount, query.MinUsdcOut, query.MaxSlippageBps,
            exits, query.Deadline ?? 0, 0, "", requireAmounts: false);
        if (draft.Error is not null) return draft.Error;
        var quoted = await cluster.GetGrain<IAgentGrain>(found.Id).QuoteAsync(draft.Value!);
        if (!quoted.IsSuccess) return Problems.From(quoted.Problem!);
        var q = quoted.Value!;
        using var typedData = JsonDocument.Parse(q.TypedDataJson);
        return Results.Ok(new QuoteResponse(PrimaryType(kind), q.Nonce, q.Track,
            new QuoteVault(q.VaultId, q.VaultAddress, new QuoteToken(draft.Value!.Symbol.ToUpperInvariant(), q.TokenAddress, q.TokenDecimals)),
            new QuoteAllocation(q.AllocationUsdc, q.DeployedUsdc, q.AllocationHeadroomUsdc, q.MaxTradeSizeUsdc, q.DailyTurnoverHeadroomUsdc, q.DailyLossHeadroomUsdc),
            new QuoteExitBounds(q.MaxStopLossBps, q.MinTakeProfitBps, q.MaxTakeProfitBps, q.RequireStopLoss, q.RequireTakeProfit),
            typedData.RootElement.Clone()));
    }

    private static string PrimaryType(IntentKind kind) => kind switch
    {
        IntentKind.OpenPosition => "OpenPosition",
        IntentKind.AddToPosition => "AddToPosition",
        IntentKind.ReducePosition => "ReducePosition",
        _ => "UpdateExitLadder",
    };

    private static Json.Body<IntentSubmission> ToSubmission(IntentKind kind, string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount,
        string? minUsdcOut, int? maxSlippageBps, IReadOnlyList<ExitRuleMessage>? exits, long deadline, long nonce, string signature, bool requireAmounts)
    {
        if (!Symbols.IsValid(symbol))
            return new(null, Problems.Result("invalid_symbol", "symbol is required: letters and digits, such as NVDA."));
        decimal Amount(string? text, string field, bool needed, out IResult? error)
        {
            error = null;
            if (text is null && !(needed && requireAmounts)) return 0m;
            var parsed = Money.ParseAmount(text, field);
            if (!parsed.IsSuccess) error = Problems.Result(parsed.Rejection!.Code, parsed.Rejection.Message);
            return parsed.Value;
        }
        var open = kind is IntentKind.OpenPosition or IntentKind.AddToPosition;
        var usdc = Amount(usdcAmount, "usdcAmount", open, out var e1);
        var minOut = Amount(minTokenOut, "minTokenOut", false, out var e2);
        var tokens = Amount(tokenAmount, "tokenAmount", kind == IntentKind.ReducePosition, out var e3);
        var minUsdc = Amount(minUsdcOut, "minUsdcOut", false, out var e4);
        if ((e1 ?? e2 ?? e3 ?? e4) is { } amountError) return new(null, amountError);
        if (maxSlippageBps is < 0 or > 10_000) return new(null, Problems.Result("invalid_slippage", "maxSlippageBps must be between 0 and 10000."));
        if (requireAmounts && kind is IntentKind.OpenPosition or IntentKind.UpdateExitLadder && exits is not { Count: > 0 })
            return new(null, Problems.Result("exits_required", "An exit ladder with at least one rule is required."));
        return new(new IntentSubmission(kind, symbol, usdc, minOut, tokens, minUsdc, maxSlippageBps ?? 0, exits ?? [], deadline, nonce, signature), null);
    }
}
