using System.ComponentModel.DataAnnotations;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Prices;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Prices;

public sealed record PricePoint([property: Required] string? Symbol, [property: Required] string? PriceUsd) : IRequestBody;
public sealed record PushPricesRequest([property: Required] IReadOnlyList<PricePoint>? Prices) : IRequestBody;

/// <summary>A symbol's price: the last accepted one, and a held outlier waiting for confirmation, if any.</summary>
public sealed record PriceQuote(string Symbol, decimal PriceUsd, DateTimeOffset UpdatedAt, long Sequence, decimal? HeldPriceUsd, DateTimeOffset? HeldAt);

public sealed record PricesResponse(IReadOnlyList<PriceQuote> Prices);

/// <summary>What each pushed tick became: accepted (published), held (an outlier, used for nothing yet) or confirmed.</summary>
public sealed record PushedPrice(string Symbol, decimal PriceUsd, string Decision, PriceQuote? Current);
public sealed record PushPricesResponse(IReadOnlyList<PushedPrice> Prices);

/// <summary>Oracle prices (docs/api.md, "Prices"; docs/domain.md for the outlier guard and staleness).</summary>
public static class PriceEndpoints
{
    public const int MaxPricesPerPush = 500;

    public static void MapPriceEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/prices", PushAsync).RequireAuthorization(Policies.Oracle).WithTags("Prices").WithName("pushPrices")
            .WithSummary("Push oracle prices (oracle, admin); each accepted tick drives exits, an outlier is held until confirmed")
            .ProducesErrors(Errors.InvalidPrices, Errors.InvalidSymbol, Errors.InvalidPrice);
        app.MapPost("/api/v1/prices/{symbol}/accept-held", AcceptHeldAsync).RequireAuthorization(Policies.Admin).WithTags("Prices").WithName("acceptHeldPrice")
            .WithSummary("Accept a held outlier as the price (admin)").ProducesErrors(Errors.InvalidSymbol, Errors.NoHeldPrice);
        app.MapGet("/prices", GetAsync).AllowAnonymous().WithTags("Prices").WithName("listPrices")
            .WithSummary("Latest oracle quotes by symbol, with any held outlier (public): ?symbols=SOL,ETH").ProducesErrors(Errors.InvalidSymbol);
    }

    private static async Task<Results<Ok<PushPricesResponse>, ProblemHttpResult>> PushAsync(PushPricesRequest request, System.Security.Claims.ClaimsPrincipal user,
        IClusterClient cluster, TimeProvider clock)
    {
        var points = request.Prices;
        if (points is null || points.Count == 0) return ApiProblems.For(Errors.InvalidPrices, "prices must list at least one { symbol, priceUsd }.");
        if (points.Count > MaxPricesPerPush) return ApiProblems.For(Errors.InvalidPrices, $"At most {MaxPricesPerPush} prices per push.");
        var parsed = new List<(string Symbol, decimal Price)>();
        for (var i = 0; i < points.Count; i++)
        {
            // Everything is validated before anything is published: a bad entry changes nothing.
            if (points[i] is null) return ApiProblems.For(Errors.InvalidPrices, $"prices[{i}] must be a {{ symbol, priceUsd }} object; got null.");
            if (!Symbols.IsValid(points[i].Symbol)) return ApiProblems.For(Errors.InvalidSymbol, $"prices[{i}].symbol must be 1 to 16 letters or digits.");
            var price = Money.ParseAmount(points[i].PriceUsd, $"prices[{i}].priceUsd");
            if (!price.IsSuccess) return ApiProblems.For(Errors.InvalidPrice, $"prices[{i}].priceUsd must be a positive decimal string.");
            if (PriceGuard.Validate(price.Value, $"prices[{i}].priceUsd") is { } outOfRange) return ApiProblems.For(outOfRange);
            var symbol = points[i].Symbol!.ToUpperInvariant();
            // One reading per symbol per push: two readings stamped with the same time cannot both count (the feed would ignore
            // the second), so a push that sends two is refused rather than half taken.
            if (parsed.Any(p => p.Symbol == symbol)) return ApiProblems.For(Errors.InvalidPrices, $"prices[{i}] repeats {symbol}; a push has one price per symbol.");
            parsed.Add((symbol, price.Value));
        }
        var now = clock.GetUtcNow();
        var results = await Task.WhenAll(parsed.Select(async p =>
            (p.Symbol, p.Price, Pushed: await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(p.Symbol)).PushAsync(p.Price, now, user.Organization()))));
        // Bounds were checked above, so a feed refuses nothing here; a refusal would still be reported rather than hidden.
        if (results.FirstOrDefault(r => !r.Pushed.IsSuccess) is { Pushed.Problem: { } refused }) return ApiProblems.For(refused);
        return TypedResults.Ok(new PushPricesResponse(results.Select(r => new PushedPrice(r.Symbol, r.Price,
            r.Pushed.Value!.Decision?.ToString().ToLowerInvariant() ?? "accepted", Quote(r.Pushed.Value))).ToList()));
    }

    private static async Task<Results<Ok<PriceQuote>, ProblemHttpResult>> AcceptHeldAsync(string symbol, IClusterClient cluster, TimeProvider clock)
    {
        if (!Symbols.IsValid(symbol)) return ApiProblems.For(Errors.InvalidSymbol, "symbol is 1 to 16 letters or digits.");
        return ApiResults.Of(await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).AcceptHeldAsync(clock.GetUtcNow()), view => Quote(view)!);
    }

    private static async Task<Results<Ok<PricesResponse>, ProblemHttpResult>> GetAsync(string? symbols, IClusterClient cluster)
    {
        var requested = (symbols ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (requested.Length > MaxPricesPerPush) return ApiProblems.For(Errors.InvalidSymbol, $"At most {MaxPricesPerPush} symbols.");
        if (requested.FirstOrDefault(s => !Symbols.IsValid(s)) is { } bad) return ApiProblems.For(Errors.InvalidSymbol, $"'{AgentLookup.Truncate(bad)}' is not a symbol.");
        if (requested.Length == 0) requested = await cluster.GetGrain<IPriceDirectoryGrain>(GrainKeys.PriceDirectory).GetSymbolsAsync();
        var views = await Task.WhenAll(requested.Select(s => cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(s)).GetViewAsync()));
        return TypedResults.Ok(new PricesResponse(views.Select(Quote).OfType<PriceQuote>().ToList()));
    }

    private static PriceQuote? Quote(PriceFeedView view) => view.Latest is { } latest
        ? new PriceQuote(latest.Symbol, latest.PriceUsd, latest.At, latest.Sequence, view.HeldPriceUsd, view.HeldAt)
        : null;
}
