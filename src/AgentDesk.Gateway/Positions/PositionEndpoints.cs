using System.Security.Claims;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Positions;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using AgentDesk.Grains.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Positions;

public sealed record TransactionView(string Id, string Hash, DateTimeOffset Time);
public sealed record PurchaseView(decimal PriceNative, decimal PriceUsd, decimal Amount, TransactionView? Transaction);
public sealed record CurrentView(decimal PriceNative, decimal PriceUsd, decimal ValueNative, decimal ValueUsd);
public sealed record ProfitLossView(decimal Native, decimal Usd, decimal Percent, decimal PriceChangePercent);
public sealed record StopLossView(decimal? Percentage, decimal? PeakPrice);

/// <summary>
/// Every exit armed on a position: absolute stop and target prices, the trailing stop with the price it fires at,
/// and the ladder rules not yet fired.
/// </summary>
public sealed record ExitPlanView(decimal? StopLossPrice, decimal? TakeProfitPrice, decimal? TrailingStopPercentage, decimal? TrailingStopPrice,
    IReadOnlyList<ExitRule> Ladder);

/// <summary>
/// A position as AgentDesk lists it (docs/api.md, "Positions"). <c>side</c>, <c>leverage</c>, <c>size</c>, <c>status</c>,
/// <c>pendingExits</c> and <c>exitPlan</c> are this project's additions to Nexgent's shape.
/// </summary>
public sealed record AgentPositionView(
    string Id, Guid AgentId, string WalletAddress, string TokenAddress, string TokenSymbol, PurchaseView Purchase, CurrentView Current,
    ProfitLossView ProfitLoss, StopLossView StopLoss, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string Side, decimal Leverage, decimal Size, string Status, IReadOnlyList<ExitRule> PendingExits, ExitPlanView ExitPlan);

public sealed record ClosePositionBody(string? Reason) : IRequestBody;

public sealed record ClosePositionResponse(
    bool Success, string TransactionId, string HistoricalSwapId, decimal ProfitLossSol, decimal ProfitLossUsd, decimal ChangePercent, string TransactionHash);

/// <summary>The error body Nexgent's close endpoint answers with.</summary>
public sealed record ErrorBody(string Error);

/// <summary>An open vault position as AlphaGrid's <c>GET /agents/{agentId}/positions</c> lists it.</summary>
public sealed record VaultPositionView(
    string PositionId, string Symbol, string? TokenAddress, decimal Size, decimal EntryPrice, decimal UsdcInvested,
    IReadOnlyList<ExitRule> PendingExits, IReadOnlyList<ExitEvent> Exits, DateTimeOffset OpenedAt, DateTimeOffset UpdatedAt);

public static class PositionEndpoints
{
    public static void MapPositionEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/agent-positions/{agentId}").RequireAuthorization(Policies.Operator).WithVisibleAgent().WithTags("Positions")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound)
            .MapGet("", ListAsync).WithName("listAgentPositions").WithSummary("Open positions of an agent with market data; ?walletAddress= filters");
        app.MapGroup("/api/v1/agents/{agentId}/positions").RequireAuthorization(Policies.Operator).WithVisibleAgent().WithTags("Positions")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound)
            .MapGet("", ListAsync).WithName("listAgentPositionsV1").WithSummary("Same as /api/v1/agent-positions/{agentId}");
        app.MapPost("/api/v1/agent-positions/{agentId}/{positionId}/close", CloseAsync).RequireAuthorization(Policies.Operator).WithTags("Positions")
            .WithName("closePosition").WithSummary("Close a position by hand; errors use the {\"error\": …} body");
        app.MapGroup("/agents/{agentId}/positions").WithVisibleAgent(publicRead: true).WithTags("Intents")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound)
            .MapGet("", VaultPositionsAsync).AllowAnonymous().WithName("listVaultPositions").WithSummary("The agent's open vault positions with pending exit rules (public)");
    }

    /// <summary>Every live position of the agent: its subscribers' (batch) positions and its vault (intent) positions.</summary>
    public static async Task<IReadOnlyList<PositionSnapshot>> LivePositionsAsync(IClusterClient cluster, AgentProfile agent, string? walletAddress)
    {
        var accounts = walletAddress is null ? await SubscriberPages.ReadAllAsync(cluster, agent.AgentId) : [walletAddress.ToLowerInvariant()];
        var prefix = $"pos:{agent.AgentId:D}:";
        var views = await Task.WhenAll(accounts.Select(a => cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(agent.Organization, a)).GetAsync()));
        var keys = views.OfType<AccountView>().SelectMany(v => v.OpenPositionKeys).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        keys.AddRange(await VaultPositionKeysAsync(cluster, agent, walletAddress));
        var positions = await Task.WhenAll(keys.Distinct().Select(k => cluster.GetGrain<IPositionGrain>(k).GetAsync()));
        return positions.OfType<PositionSnapshot>().Where(p => p.IsLive).ToList();
    }

    private static async Task<IEnumerable<string>> VaultPositionKeysAsync(IClusterClient cluster, AgentProfile agent, string? walletAddress)
    {
        if (agent.VaultId is null) return [];
        var vault = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(agent.VaultId)).GetAsync();
        if (vault is null || (walletAddress is not null && !string.Equals(walletAddress, vault.Address, StringComparison.OrdinalIgnoreCase))) return [];
        return (await cluster.GetGrain<IAgentGrain>(agent.AgentId).GetIntentSymbolsAsync()).Select(s => GrainKeys.Position(agent.AgentId, vault.Address, s));
    }

    private static async Task<Results<Ok<List<AgentPositionView>>, ProblemHttpResult>> ListAsync(string? walletAddress, HttpContext http, IClusterClient cluster,
        IOptions<PriceOptions> prices)
    {
        if (walletAddress is not null && !Domain.Intents.EthAddress.IsValid(walletAddress))
            return Agents.AgentEndpoints.InvalidAddress("walletAddress", walletAddress);
        var positions = await LivePositionsAsync(cluster, http.VisibleAgent().Profile, walletAddress);
        var nativeSymbol = prices.Value.NativeSymbol.ToUpperInvariant();
        var latest = await PricesAsync(cluster, positions.Select(p => p.Symbol).Append(nativeSymbol));
        var native = latest.GetValueOrDefault(nativeSymbol);
        return TypedResults.Ok(positions.Select(p => View(p, latest.GetValueOrDefault(p.Symbol, p.EntryPrice), native)).ToList());
    }

    public static AgentPositionView View(PositionSnapshot p, decimal price, decimal nativePrice)
    {
        var entry = p.Status == PositionStatus.Pending ? p.TriggerPrice ?? price : p.EntryPrice;
        var value = p.Status == PositionStatus.Pending
            ? null
            : PositionMath.Value(new PositionState(p.Side, p.Size, p.EntryPrice, p.Leverage, p.MarginUsdc, p.RealizedPnlUsdc, 18), price, nativePrice);
        var tx = p.OpenTransaction is { } t ? new TransactionView(t.Id, t.Hash, t.At) : null;
        // Display precision: USD to 6 places, native to 10, percentages to 4, always rounded down: never shown above what
        // it is, and a loss (negative) never smaller.
        static decimal Usd(decimal v) => Math.Round(v, 6, MidpointRounding.ToNegativeInfinity);
        static decimal Native(decimal v) => Math.Round(v, 10, MidpointRounding.ToNegativeInfinity);
        static decimal Pct(decimal v) => Math.Round(v, 4, MidpointRounding.ToNegativeInfinity);
        var trailingLevel = p.TrailingStopPercentage is { } percentage && p.ExtremePrice is { } extreme
            ? ExitEvaluator.TrailingStopLevel(new TrailingStop(percentage, extreme), p.Side)
            : (decimal?)null;
        return new AgentPositionView(p.PositionId, p.AgentId, p.Account, p.TokenAddress ?? p.Symbol, p.Symbol,
            new PurchaseView(Native(PositionMath.ToNative(entry, nativePrice)), entry, p.OriginalSize, tx),
            new CurrentView(Native(PositionMath.ToNative(price, nativePrice)), price, Native(value?.ValueNative ?? 0), Usd(value?.ValueUsd ?? 0)),
            new ProfitLossView(Native(value?.ProfitLossNative ?? 0), Usd(value?.ProfitLossUsd ?? 0), Pct(value?.ProfitLossPercent ?? 0), Pct(value?.PriceChangePercent ?? 0)),
            new StopLossView(p.TrailingStopPercentage, p.ExtremePrice), p.CreatedAt, p.UpdatedAt,
            p.Side.ToWire(), p.Leverage, p.Size, p.Status.ToString().ToUpperInvariant(), p.PendingExits,
            new ExitPlanView(p.StopLossPrice, p.TakeProfitPrice, p.TrailingStopPercentage, trailingLevel, p.PendingExits));
    }

    private static async Task<Results<Ok<ClosePositionResponse>, NotFound<ErrorBody>, BadRequest<ErrorBody>>> CloseAsync(string agentId, string positionId,
        [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] ClosePositionBody? body,
        ClaimsPrincipal user, IClusterClient cluster, IOptions<PriceOptions> prices)
    {
        var found = await AgentLookup.FindAsync(cluster, user, agentId);
        if (found.Agent is not { } agent) return TypedResults.NotFound(new ErrorBody("Position not found"));
        var reason = body?.Reason ?? CloseReasons.Manual;
        if (reason is not (CloseReasons.Manual or CloseReasons.StopLoss)) return TypedResults.BadRequest(new ErrorBody("Invalid reason: use manual or stop_loss"));

        // Position ids are UUIDs; anything else names no position, and no close-by-hand grain is asked about it.
        if (!Guid.TryParse(positionId, out var id)) return TypedResults.NotFound(new ErrorBody("Position not found"));

        // Closed by hand already (this is a retry): the first close's answer. A closed position is in no list, so only its
        // close-by-hand grain can answer; asking it first also spares a retry the scan of every subscriber below.
        var closes = cluster.GetGrain<IManualCloseGrain>(GrainKeys.ManualClose(agent.Id, id));
        var answered = await closes.AnswerAsync();
        if (answered.IsSuccess) return Answer(answered.Value!);

        var canonicalId = id.ToString("D");
        var position = (await LivePositionsAsync(cluster, agent.Profile, null)).FirstOrDefault(p => p.PositionId == canonicalId);
        if (position is not { Status: PositionStatus.Open }) return TypedResults.NotFound(new ErrorBody("Position not found"));
        var price = await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(position.Symbol)).GetLatestAsync();
        var native = await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(prices.Value.NativeSymbol)).GetLatestAsync();
        var closed = await closes.CloseAsync(new ManualCloseRequest(position.Key, reason, price?.PriceUsd ?? 0m, position.EntryPrice, native?.PriceUsd ?? 0m));
        if (closed.IsSuccess) return Answer(closed.Value!);
        return closed.Problem!.Code == Errors.PositionNotFound
            ? TypedResults.NotFound(new ErrorBody("Position not found"))
            : TypedResults.BadRequest(new ErrorBody(closed.Problem.Code == Errors.InsufficientPositionSize ? "Insufficient token balance" : closed.Problem.Message));

        static Ok<ClosePositionResponse> Answer(ManualCloseAnswer answer)
        {
            var (sale, entryPrice, nativePrice) = answer;
            var change = entryPrice > 0 ? (sale.ExitPrice - entryPrice) / entryPrice * 100m : 0m;
            return TypedResults.Ok(new ClosePositionResponse(true, sale.Transaction!.Id, sale.HistoricalSwapId!,
                Math.Round(PositionMath.ToNative(sale.RealizedPnlUsdc, nativePrice), 10, MidpointRounding.ToNegativeInfinity),
                sale.RealizedPnlUsdc, Math.Round(change, 4, MidpointRounding.ToNegativeInfinity), sale.Transaction.Hash));
        }
    }

    private static async Task<Ok<List<VaultPositionView>>> VaultPositionsAsync(HttpContext http, IClusterClient cluster)
    {
        var keys = await VaultPositionKeysAsync(cluster, http.VisibleAgent().Profile, null);
        var positions = await Task.WhenAll(keys.Select(k => cluster.GetGrain<IPositionGrain>(k).GetAsync()));
        return TypedResults.Ok(positions.OfType<PositionSnapshot>().Where(p => p.Status == PositionStatus.Open)
            .Select(p => new VaultPositionView(p.PositionId, p.Symbol, p.TokenAddress, p.Size, p.EntryPrice, p.MarginUsdc, p.PendingExits, p.Exits, p.CreatedAt, p.UpdatedAt))
            .ToList());
    }

    public static async Task<Dictionary<string, decimal>> PricesAsync(IClusterClient cluster, IEnumerable<string> symbols)
    {
        var distinct = symbols.Select(s => s.ToUpperInvariant()).Distinct().ToList();
        var ticks = await Task.WhenAll(distinct.Select(s => cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(s)).GetLatestAsync()));
        return ticks.OfType<PriceTick>().ToDictionary(t => t.Symbol, t => t.PriceUsd);
    }
}
