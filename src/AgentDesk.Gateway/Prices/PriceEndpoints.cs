using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Prices;

public sealed record PricePoint(string? Symbol, string? PriceUsd);
public sealed record PushPricesRequest(IReadOnlyList<PricePoint>? Prices);
public sealed record PriceQuote(string Symbol, decimal PriceUsd, DateTimeOffset UpdatedAt);
public sealed record PricesResponse(IReadOnlyList<PriceQuote> Prices);

public static class PriceEndpoints
{
    public const int MaxPricesPerPush = 500;

    public static void MapPriceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/prices", PushAsync).RequireAuthorization(Policies.Oracle).WithTags("Prices")
            .Accepts<PushPricesRequest>("application/json").Produces<PricesResponse>().ProducesProblem(400)
            .WithSummary("Push oracle prices; each publishes a tick that drives exits");
        app.MapGet("/prices", GetAsync).WithTags("Prices").Produces<PricesResponse>()
            .WithSummary("Latest oracle quotes by symbol (seed 002, public): ?symbols=SOL,ETH");
    }

    private static async Task<IResult> PushAsync(HttpRequest http, IClusterClient cluster, TimeProvider clock)
    {
        var body = await Json.ReadAsync<PushPricesRequest>(http);
        if (body.Error is not null) return body.Error;
        var points = body.Value!.Prices;
        if (points is null || points.Count == 0) return Problems.Result("invalid_prices", "prices must list at least one { symbol, priceUsd }.");
        if (points.Count > MaxPricesPerPush) return Problems.Result("invalid_prices", $"At most {MaxPricesPerPush} prices per push.");
        var parsed = new List<(string Symbol, decimal Price)>();
        for (var i = 0; i < points.Count; i++)
        {
            // Everything is validated before anything is published: a bad entry changes nothing.
            var symbol = points[i].Symbol;
            if (!Symbols.IsValid(symbol))
                return Problems.Result("invalid_symbol", $"prices[{i}].symbol must be 1 to 16 letters or digits.");
            var price = Money.ParseAmount(points[i].PriceUsd, $"prices[{i}].priceUsd");
            if (!price.IsSuccess || price.Value <= 0) return Problems.Result("invalid_price", $"prices[{i}].priceUsd must be a positive decimal string.");
            parsed.Add((symbol.ToUpperInvariant(), price.Value));
        }
        var now = clock.GetUtcNow();
        await Task.WhenAll(parsed.Select(p => cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(p.Symbol)).PushAsync(p.Price, now)));
        return Results.Ok(new PricesResponse(parsed.Select(p => new PriceQuote(p.Symbol, p.Price, now)).ToList()));
    }

    private static async Task<IResult> GetAsync(string? symbols, IClusterClient cluster)
    {
        var requested = (symbols ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested.Length == 0) requested = await KnownSymbolsAsync(cluster);
        var ticks = await Task.WhenAll(requested.Select(s => cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(s)).GetLatestAsync()));
        return Results.Ok(new PricesResponse(ticks.OfType<AgentDesk.Contracts.Positions.PriceTick>().Select(t => new PriceQuote(t.Symbol, t.PriceUsd, t.At)).ToList()));
    }

    /// <summary>The symbols with a feed, from the price directory.</summary>
    private static Task<string[]> KnownSymbolsAsync(IClusterClient cluster) =>
        cluster.GetGrain<IPriceDirectoryGrain>(IPriceDirectoryGrain.Key).GetSymbolsAsync();
}
