using System.Security.Claims;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Positions;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Infrastructure;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Positions;

public sealed record TransactionView(string Id, string Hash, DateTimeOffset Time);
public sealed record PurchaseView(decimal PriceNative, decimal PriceUsd, decimal Amount, TransactionView? Transaction);
public sealed record CurrentView(decimal PriceNative, decimal PriceUsd, decimal ValueNative, decimal ValueUsd);
public sealed record ProfitLossView(decimal Native, decimal Usd, decimal Percent, decimal PriceChangePercent);
public sealed record StopLossView(decimal? Percentage, decimal? PeakPrice);

/// <summary>A position as seed 001 shows it. <c>side</c>, <c>leverage</c>, <c>size</c> and <c>pendingExits</c> are this project's additions.</summary>
public sealed record AgentPositionView(
    string Id, Guid AgentId, string WalletAddress, string TokenAddress, string TokenSymbol, PurchaseView Purchase, CurrentView Current,
    ProfitLossView ProfitLoss, StopLossView StopLoss, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    string Side, decimal Leverage, decimal Size, string Status, IReadOnlyList<ExitRuleMessage> PendingExits);

public sealed record ClosePositionBody(string? Reason);

public sealed record ClosePositionResponse(
    bool Success, string TransactionId, string HistoricalSwapId, decimal ProfitLossSol, decimal ProfitLossUsd, decimal ChangePercent, string TransactionHash);

public sealed record SeedError(string Error);

/// <summary>An open vault position as seed 002's <c>GET /agents/{agentId}/positions</c> lists it.</summary>
public sealed record VaultPositionView(
    string PositionId, string Symbol, string? TokenAddress, decimal Size, decimal EntryPrice, decimal UsdcInvested,
    IReadOnlyList<ExitRuleMessage> PendingExits, IReadOnlyList<ExitEvent> Exits, DateTimeOffset OpenedAt, DateTimeOffset UpdatedAt);

public static class PositionEndpoints
{
    public static void MapPositionEndpoints(this IEndpointRouteBuilder app)
    {
        var operatorGroup = app.MapGroup("").RequireAuthorization(Policies.Operator).WithTags("Positions");
        operatorGroup.MapGet("/api/v1/agent-positions/{agentId}", ListAsync).Produces<AgentPositionView[]>()
            .WithSummary("Open positions of an agent with market data (seed 001); ?walletAddress= filters");
        operatorGroup.MapGet("/api/v1/agents/{agentId}/positions", ListAsync).Produces<AgentPositionView[]>()
            .WithSummary("Same as /api/v1/agent-positions/{agentId}");
        operatorGroup.MapPost("/api/v1/agent-positions/{agentId}/{positionId}/close", CloseAsync)
            .Accepts<ClosePositionBody>("application/json").Produces<ClosePositionResponse>().Produces<SeedError>(404).Produces<SeedError>(400)
            .WithSummary("Close a position by hand (seed 001)");
        app.MapGet("/agents/{agentId}/positions", VaultPositionsAsync).WithTags("Intents").Produces<VaultPositionView[]>()
            .WithSummary("The agent's open vault positions with pending exit rules (seed 002, public)");
    }

    /// <summary>Every live position of the agent: its subscribers' (batch) positions and its vault (intent) positions.</summary>
    public static async Task<IReadOnlyList<PositionSnapshot>> LivePositionsAsync(IClusterClient cluster, Guid agentId, string? walletAddress)
    {
        var accounts = walletAddress is null ? await AgentEndpoints.SubscribersAsync(cluster, agentId) : [walletAddress.ToLowerInvariant()];
        var prefix = $"pos:{agentId:D}:";
        var views = await Task.WhenAll(accounts.Select(a => cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(a)).GetAsync()));
        var keys = views.OfType<AccountView>().SelectMany(v => v.OpenPositionKeys).Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        keys.AddRange(await VaultPositionKeysAsync(cluster, agentId, walletAddress));
        var positions = await Task.WhenAll(keys.Distinct().Select(k => cluster.GetGrain<IPositionGrain>(k).GetAsync()));
        return positions.OfType<PositionSnapshot>().Where(p => p.Status is PositionStatus.Open or PositionStatus.Pending).ToList();
    }

    private static async Task<IEnumerable<string>> VaultPositionKeysAsync(IClusterClient cluster, Guid agentId, string? walletAddress)
    {
        var agent = cluster.GetGrain<IAgentGrain>(agentId);
        var profile = await agent.GetProfileAsync();
        if (profile?.VaultId is null) return [];
        var vault = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(profile.VaultId)).GetAsync();
        if (vault is null || (walletAddress is not null && !string.Equals(walletAddress, vault.Address, StringComparison.OrdinalIgnoreCase))) return [];
        return (await agent.GetIntentSymbolsAsync()).Select(s => GrainKeys.Position(agentId, vault.Address, s));
    }

    private static async Task<IResult> ListAsync(string agentId, string? walletAddress, ClaimsPrincipal user, IClusterClient cluster, IOptions<GatewayOptions> options)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        var positions = await LivePositionsAsync(cluster, found.Id, walletAddress);
        var prices = await PricesAsync(cluster, positions.Select(p => p.Symbol).Append(options.Value.NativeSymbol));
        var native = prices.GetValueOrDefault(options.Value.NativeSymbol.ToUpperInvariant());
        return Results.Ok(positions.Select(p => View(p, prices.GetValueOrDefault(p.Symbol, p.EntryPrice), native)).ToList());
    }

    public static AgentPositionView View(PositionSnapshot p, decimal price, decimal nativePrice)
    {
        var side = p.Side == TradeSide.Short ? Side.Short : Side.Long;
        var entry = p.Status == PositionStatus.Pending ? p.TriggerPrice ?? price : p.EntryPrice;
        var value = p.Status == PositionStatus.Pending
            ? new PositionValuation(0, 0, 0, 0, 0, 0)
            : PositionMath.Value(new PositionState(side, p.Size, p.EntryPrice, p.Leverage, p.MarginUsdc, p.RealizedPnlUsdc, 18), price, nativePrice);
        var tx = p.OpenTransaction is { } t ? new TransactionView(t.Id, t.Hash, t.At) : null;
        // Display precision: USD to 6 places, native to 10, percentages to 4, always truncated (never rounded up).
        static decimal Usd(decimal v) => Math.Round(v, 6, MidpointRounding.ToZero);
        static decimal Native(decimal v) => Math.Round(v, 10, MidpointRounding.ToZero);
        static decimal Pct(decimal v) => Math.Round(v, 4, MidpointRounding.ToZero);
        return new AgentPositionView(p.PositionId, p.AgentId, p.Account, p.TokenAddress ?? p.Symbol, p.Symbol,
            new PurchaseView(Native(PositionMath.ToNative(entry, nativePrice)), entry, p.OriginalSize, tx),
            new CurrentView(Native(PositionMath.ToNative(price, nativePrice)), price, Native(value.ValueNative), Usd(value.ValueUsd)),
            new ProfitLossView(Native(value.ProfitLossNative), Usd(value.ProfitLossUsd), Pct(value.ProfitLossPercent), Pct(value.PriceChangePercent)),
            new StopLossView(p.TrailingStopPercentage, p.ExtremePrice), p.CreatedAt, p.UpdatedAt,
            side == Side.Long ? "LONG" : "SHORT", p.Leverage, p.Size, p.Status.ToString().ToUpperInvariant(), p.PendingExits);
    }

    private static async Task<IResult> CloseAsync(string agentId, string positionId, HttpRequest http, ClaimsPrincipal user, IClusterClient cluster, IOptions<GatewayOptions> options)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return Results.NotFound(new SeedError("Position not found"));
        var reason = "manual";
        // The body is optional (seed 001): read it whenever one was sent, with or without a Content-Length.
        if (http.ContentLength > 0 || http.Headers.ContainsKey("Transfer-Encoding"))
        {
            var body = await Json.ReadAsync<ClosePositionBody>(http);
            if (body.Error is not null) return body.Error;
            reason = body.Value!.Reason ?? "manual";
        }
        if (reason is not ("manual" or "stop_loss")) return Results.BadRequest(new SeedError("Invalid reason: use manual or stop_loss"));

        var position = (await LivePositionsAsync(cluster, found.Id, null)).FirstOrDefault(p => p.PositionId == positionId);
        if (position is null || position.Status != PositionStatus.Open) return Results.NotFound(new SeedError("Position not found"));
        var price = await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(position.Symbol)).GetLatestAsync();
        var closed = await cluster.GetGrain<IPositionGrain>(position.Key).CloseAsync(
            new ClosePositionCommand($"manual:{positionId}", reason, null, positionId, price?.PriceUsd ?? 0m));
        if (!closed.IsSuccess)
        {
            return closed.Problem!.Code is "insufficient_position_size"
                ? Results.BadRequest(new SeedError("Insufficient token balance"))
                : Results.BadRequest(new SeedError(closed.Problem.Message));
        }
        var outcome = closed.Value!;
        if (outcome.Skipped) return Results.NotFound(new SeedError("Position not found"));
        var native = (await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(options.Value.NativeSymbol)).GetLatestAsync())?.PriceUsd ?? 0m;
        var change = position.EntryPrice > 0 ? (outcome.ExitPrice - position.EntryPrice) / position.EntryPrice * 100m : 0m;
        return Results.Ok(new ClosePositionResponse(true, outcome.Transaction!.Id, $"{positionId}:close",
            Math.Round(PositionMath.ToNative(outcome.RealizedPnlUsdc, native), 10, MidpointRounding.ToZero),
            outcome.RealizedPnlUsdc, Math.Round(change, 4, MidpointRounding.ToZero), outcome.Transaction.Hash));
    }

    private static async Task<IResult> VaultPositionsAsync(string agentId, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, null, agentId, publicRead: true);
        if (found.Error is not null) return found.Error;
        var keys = await VaultPositionKeysAsync(cluster, found.Id, null);
        var positions = await Task.WhenAll(keys.Select(k => cluster.GetGrain<IPositionGrain>(k).GetAsync()));
        return Results.Ok(positions.OfType<PositionSnapshot>().Where(p => p.Status == PositionStatus.Open)
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
