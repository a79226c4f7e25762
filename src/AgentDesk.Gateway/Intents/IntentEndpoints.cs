using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Tracks;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Intents;

/// <summary>What every signed intent carries: the deadline and nonce it signed (numbers or decimal strings) and the signature.</summary>
public abstract record SignedBody(
    [property: Required, JsonConverter(typeof(IntegerOrStringConverter))] long? Deadline,
    [property: Required, JsonConverter(typeof(IntegerOrStringConverter))] long? Nonce,
    [property: Required] string? Signature) : IRequestBody;

/// <summary>An <c>OpenPosition</c> intent (docs/intents.md). Amounts are decimal strings in human units: "100" is 100 USDC.</summary>
public sealed record OpenIntentBody(
    [property: Required] string? Symbol, [property: Required] string? UsdcAmount, string? MinTokenOut, int? MaxSlippageBps,
    [property: Required] IReadOnlyList<ExitRule>? Exits, long? Deadline, long? Nonce, string? Signature) : SignedBody(Deadline, Nonce, Signature), IRequestBody;

/// <summary>An <c>AddToPosition</c> intent.</summary>
public sealed record AddIntentBody(
    [property: Required] string? Symbol, [property: Required] string? UsdcAmount, string? MinTokenOut, int? MaxSlippageBps,
    long? Deadline, long? Nonce, string? Signature) : SignedBody(Deadline, Nonce, Signature), IRequestBody;

/// <summary>A <c>ReducePosition</c> intent; the position's whole size closes it.</summary>
public sealed record ReduceIntentBody(
    [property: Required] string? Symbol, [property: Required] string? TokenAmount, string? MinUsdcOut, int? MaxSlippageBps,
    long? Deadline, long? Nonce, string? Signature) : SignedBody(Deadline, Nonce, Signature), IRequestBody;

/// <summary>An <c>UpdateExitLadder</c> intent: replaces the ladder without changing size.</summary>
public sealed record ExitLadderIntentBody(
    [property: Required] string? Symbol, [property: Required] IReadOnlyList<ExitRule>? Exits,
    long? Deadline, long? Nonce, string? Signature) : SignedBody(Deadline, Nonce, Signature), IRequestBody;

public sealed record IntentResponse(
    string PositionId, string? TransactionHash, string? ExplorerUrl, bool Simulated, long Nonce, string Symbol, string Status,
    decimal Size, decimal EntryPrice, decimal RealizedPnlUsdc, IReadOnlyList<ExitRule> PendingExits, string? HistoricalSwapId);

public sealed record QuoteToken(string Symbol, string Address, int Decimals);
public sealed record QuoteVault(string VaultId, string Address, QuoteToken Token);
public sealed record QuoteAllocation(decimal AllocationUsdc, decimal DeployedUsdc, decimal HeadroomUsdc, decimal MaxTradeSizeUsdc,
    decimal DailyTurnoverHeadroomUsdc, decimal DailyLossHeadroomUsdc);

/// <summary>The typed data to sign (submit <c>message.deadline</c> and <c>nonce</c> back as they are), with the vault binding, headroom and exit bounds.</summary>
public sealed record QuoteResponse(string PrimaryType, long Nonce, string Track, QuoteVault Vault, QuoteAllocation Allocation, ExitBounds ExitBounds,
    TypedDataTemplate TypedData);

/// <summary>AlphaGrid's signed intents (docs/intents.md): quotes and submissions for the four intent types. Public: the signature authenticates.</summary>
public static class IntentEndpoints
{
    public static void MapIntentEndpoints(this IEndpointRouteBuilder app)
    {
        // The agent grain answers agent_not_found for an agent that is not registered, so the route only parses the id.
        var group = app.MapGroup("/agents/{agentId}").WithAgentId().AllowAnonymous().WithTags("Intents")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound);
        var submitErrors = new[]
        {
            Errors.InvalidSymbol, Errors.InvalidAmount, Errors.InvalidSlippage, Errors.ExitsRequired, Errors.ExitLadderTooLong, Errors.InvalidExitRule,
            Errors.InvalidExitBps, Errors.InvalidStopLoss, Errors.InvalidTakeProfit, Errors.LastRuleMustExitAll, Errors.StopLossOutOfBounds,
            Errors.TakeProfitOutOfBounds, Errors.StopLossRequired, Errors.TakeProfitRequired, Errors.InvalidSignature, Errors.InvalidNonce,
            Errors.InvalidDeadline, Errors.DeadlineExpired, Errors.NonceMismatch, Errors.SymbolNotAllowed, Errors.NoVault, Errors.NoSigner,
            Errors.NoAllocation, Errors.TrackTradeSizeExceeded, Errors.TrackDailyTurnoverExceeded, Errors.TrackDailyLossReached,
            Errors.AllocationExceeded, Errors.AgentPaused, Errors.NoPrice, Errors.StalePrice, Errors.PriceHeld, Errors.PositionAlreadyOpen, Errors.PositionNotFound,
            Errors.InsufficientPositionSize, Errors.MinOutNotMet, Errors.SlippageExceeded, Errors.VenueUnavailable, Errors.InsufficientFunds,
            Errors.SizeTooSmall, Errors.InvalidExits,
        };
        group.MapPost("/trade-intents", (OpenIntentBody body, HttpContext http, IClusterClient cluster) =>
                SubmitAsync(http, cluster, body, ToRequest(IntentKind.OpenPosition, body.Symbol, body.UsdcAmount, body.MinTokenOut, null, null, body.MaxSlippageBps, body.Exits)))
            .WithName("submitOpenIntent").WithSummary("Open a vault position with a signed OpenPosition intent").ProducesErrors(submitErrors);
        group.MapPost("/add-intents", (AddIntentBody body, HttpContext http, IClusterClient cluster) =>
                SubmitAsync(http, cluster, body, ToRequest(IntentKind.AddToPosition, body.Symbol, body.UsdcAmount, body.MinTokenOut, null, null, body.MaxSlippageBps, null)))
            .WithName("submitAddIntent").WithSummary("Add to a vault position with a signed AddToPosition intent").ProducesErrors(submitErrors);
        group.MapPost("/reduce-intents", (ReduceIntentBody body, HttpContext http, IClusterClient cluster) =>
                SubmitAsync(http, cluster, body, ToRequest(IntentKind.ReducePosition, body.Symbol, null, null, body.TokenAmount, body.MinUsdcOut, body.MaxSlippageBps, null)))
            .WithName("submitReduceIntent").WithSummary("Sell part or all of a vault position with a signed ReducePosition intent").ProducesErrors(submitErrors);
        group.MapPost("/exit-ladder-intents", (ExitLadderIntentBody body, HttpContext http, IClusterClient cluster) =>
                SubmitAsync(http, cluster, body, ToRequest(IntentKind.UpdateExitLadder, body.Symbol, null, null, null, null, null, body.Exits)))
            .WithName("submitExitLadderIntent").WithSummary("Replace a vault position's exit ladder with a signed UpdateExitLadder intent").ProducesErrors(submitErrors);

        foreach (var (path, kind, name) in new[]
        {
            ("trade-intents", IntentKind.OpenPosition, "Open"), ("add-intents", IntentKind.AddToPosition, "Add"),
            ("reduce-intents", IntentKind.ReducePosition, "Reduce"), ("exit-ladder-intents", IntentKind.UpdateExitLadder, "ExitLadder"),
        })
        {
            group.MapGet($"/{path}/quote", (string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount, string? minUsdcOut,
                    string? maxSlippageBps, string? exits, string? deadline, HttpContext http, IClusterClient cluster) =>
                    QuoteAsync(http, cluster, kind, symbol, usdcAmount, minTokenOut, tokenAmount, minUsdcOut, maxSlippageBps, exits, deadline))
                .WithName($"quote{name}Intent").WithSummary($"Quote a {kind} intent: the typed data to sign, nonce, vault binding, headroom and exit bounds")
                .ProducesErrors(Errors.InvalidSymbol, Errors.InvalidAmount, Errors.InvalidSlippage, Errors.InvalidExits, Errors.InvalidDeadline,
                    Errors.AgentPaused, Errors.NoVault, Errors.SymbolNotAllowed, Errors.ExitLadderTooLong, Errors.InvalidExitRule, Errors.InvalidExitBps);
            // AlphaGrid's clients quote adds, reduces and ladder updates at the submission path itself.
            if (kind != IntentKind.OpenPosition)
                group.MapGet($"/{path}", (string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount, string? minUsdcOut,
                        string? maxSlippageBps, string? exits, string? deadline, HttpContext http, IClusterClient cluster) =>
                        QuoteAsync(http, cluster, kind, symbol, usdcAmount, minTokenOut, tokenAmount, minUsdcOut, maxSlippageBps, exits, deadline))
                    .WithName($"quote{name}IntentAtSubmitPath").WithSummary($"Same as GET /{path}/quote").ExcludeFromDescription();
        }
    }

    /// <summary>The request without its signature parts; amounts are parsed from their decimal strings.</summary>
    private static Outcome<IntentRequest> ToRequest(IntentKind kind, string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount,
        string? minUsdcOut, int? maxSlippageBps, IReadOnlyList<ExitRule>? exits)
    {
        decimal usdc = 0, minOut = 0, tokens = 0, minUsdc = 0;
        if (usdcAmount is not null || kind is IntentKind.OpenPosition or IntentKind.AddToPosition)
        {
            var parsed = Money.ParseAmount(usdcAmount, "usdcAmount");
            if (!parsed.IsSuccess) return parsed.Rejection!;
            usdc = parsed.Value;
        }
        if (tokenAmount is not null || kind == IntentKind.ReducePosition)
        {
            var parsed = Money.ParseAmount(tokenAmount, "tokenAmount");
            if (!parsed.IsSuccess) return parsed.Rejection!;
            tokens = parsed.Value;
        }
        if (minTokenOut is not null)
        {
            var parsed = Money.ParseAmount(minTokenOut, "minTokenOut");
            if (!parsed.IsSuccess) return parsed.Rejection!;
            minOut = parsed.Value;
        }
        if (minUsdcOut is not null)
        {
            var parsed = Money.ParseAmount(minUsdcOut, "minUsdcOut");
            if (!parsed.IsSuccess) return parsed.Rejection!;
            minUsdc = parsed.Value;
        }
        // The ladder is copied: the request is immutable from here on (grains on this silo share it, and storage keeps its JSON).
        return new IntentRequest(kind, symbol?.ToUpperInvariant() ?? "", usdc, minOut, tokens, minUsdc, maxSlippageBps ?? 0, exits?.ToArray() ?? [], 0, 0, "");
    }

    private static async Task<Results<Ok<IntentResponse>, ProblemHttpResult>> SubmitAsync(HttpContext http, IClusterClient cluster, SignedBody body, Outcome<IntentRequest> parsed)
    {
        if (!parsed.IsSuccess) return ApiProblems.For(parsed.Rejection!);
        if (body.Nonce is not { } nonce || nonce < 0) return ApiProblems.For(Errors.InvalidNonce, "nonce is required: the agent's current nonce from a quote.");
        if (body.Deadline is not { } deadline || deadline <= 0) return ApiProblems.For(Errors.InvalidDeadline, "deadline is required (unix seconds, as the quote's message.deadline).");
        if (string.IsNullOrWhiteSpace(body.Signature) || body.Signature.Length > 200)
            return ApiProblems.For(Errors.InvalidSignature, "signature is required: 0x followed by the 65-byte r‖s‖v in hex.");
        var request = parsed.Value! with { Deadline = deadline, Nonce = nonce, Signature = CanonicalSignature.Of(body.Signature) };
        return ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.RouteAgentId()).ExecuteIntentAsync(request), executed =>
        {
            var position = executed.Position;
            var tx = position.Transaction;
            return new IntentResponse(position.PositionId, tx?.Hash, tx?.ExplorerUrl, tx?.Simulated ?? true, executed.Nonce, position.Symbol,
                position.Status.ToString().ToUpperInvariant(), position.Size, position.EntryPrice, position.RealizedPnlUsdc, position.PendingExits,
                request.Kind == IntentKind.ReducePosition ? position.HistoricalSwapId : null);
        });
    }

    private static async Task<Results<Ok<QuoteResponse>, ProblemHttpResult>> QuoteAsync(HttpContext http, IClusterClient cluster, IntentKind kind,
        string? symbol, string? usdcAmount, string? minTokenOut, string? tokenAmount, string? minUsdcOut, string? maxSlippageBps, string? exits, string? deadline)
    {
        IReadOnlyList<ExitRule>? rules = null;
        if (exits is { Length: > 0 })
        {
            try
            {
                rules = JsonSerializer.Deserialize<List<ExitRule>>(exits, ApiJson.Options);
            }
            catch (JsonException)
            {
                return ApiProblems.For(Errors.InvalidExits, "exits must be a JSON array of { triggerType, triggerBps, exitBps }.");
            }
        }
        int? slippage = null;
        if (maxSlippageBps is not null)
        {
            if (!int.TryParse(maxSlippageBps, NumberStyles.None, CultureInfo.InvariantCulture, out var bps))
                return ApiProblems.For(Errors.InvalidSlippage, $"maxSlippageBps must be an integer between 0 and {IntentAdmission.MaxSlippageBps}.");
            slippage = bps;
        }
        long signedDeadline = 0;
        if (deadline is not null && !long.TryParse(deadline, NumberStyles.None, CultureInfo.InvariantCulture, out signedDeadline))
            return ApiProblems.For(Errors.InvalidDeadline, "deadline must be unix seconds.");
        var draft = ToRequest(kind, symbol, usdcAmount ?? (kind is IntentKind.OpenPosition or IntentKind.AddToPosition ? "0" : null), minTokenOut,
            tokenAmount ?? (kind == IntentKind.ReducePosition ? "0" : null), minUsdcOut, slippage, rules);
        if (!draft.IsSuccess) return ApiProblems.For(draft.Rejection!);
        var quoted = await cluster.GetGrain<IAgentGrain>(http.RouteAgentId()).QuoteAsync(draft.Value! with { Deadline = signedDeadline });
        return ApiResults.Of(quoted, q => new QuoteResponse(q.TypedData.PrimaryType, q.Nonce, q.Track,
            new QuoteVault(q.VaultId, q.VaultAddress, new QuoteToken(q.Token.Symbol, q.Token.Address, q.Token.Decimals)), Allocation(q.Headroom), q.ExitBounds, q.TypedData));
    }

    private static QuoteAllocation Allocation(TradeHeadroom h) =>
        new(h.AllocationUsdc, h.DeployedUsdc, h.AllocationHeadroomUsdc, h.MaxTradeSizeUsdc, h.DailyTurnoverHeadroomUsdc, h.DailyLossHeadroomUsdc);
}
