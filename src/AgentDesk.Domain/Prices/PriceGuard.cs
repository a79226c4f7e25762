using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Prices;

/// <summary>A price of one symbol at one moment.</summary>
public sealed record PriceQuote(decimal PriceUsd, DateTimeOffset At);

/// <summary>
/// Price settings (section <c>AgentDesk:Prices</c>): how far one tick may jump from the last accepted price
/// before it is held, and how old the last price may be for new trades.
/// </summary>
public sealed record PricePolicy(int MaxJumpBps, TimeSpan MaxAge)
{
    public static PricePolicy Default { get; } = new(2_000, TimeSpan.FromSeconds(300));
}

/// <summary>What happened to a tick.</summary>
public enum TickDecision
{
    /// <summary>Within the band of the last accepted price (or the first price): published.</summary>
    Accepted,
    /// <summary>Too far from the last accepted price: kept aside, used for nothing until confirmed.</summary>
    Held,
    /// <summary>Within the band of the held tick: the move was real; this tick is accepted and published.</summary>
    Confirmed,
    /// <summary>A reading older than the accepted (or held) one, or the same again: it changes nothing.</summary>
    Ignored,
}

/// <summary>The feed's guarded state: the last accepted price and a held outlier, if any.</summary>
public sealed record GuardedPrice(PriceQuote? Accepted, PriceQuote? Held);

/// <summary>
/// Price bounds and the outlier guard (docs/domain.md, "Prices"). A single bad tick cannot fire stops: a tick
/// further than <see cref="PricePolicy.MaxJumpBps"/> from the last accepted price is held; it is accepted only
/// when a later tick lands within the band of it (the market really moved) or the admin accepts it. A tick
/// back within the band of the accepted price drops the held one.
/// </summary>
public static class PriceGuard
{
    public const decimal MinPriceUsd = 0.000000000001m;
    public const decimal MaxPriceUsd = 1_000_000_000_000m;

    public static Rejection? Validate(decimal priceUsd, string field) => priceUsd is >= MinPriceUsd and <= MaxPriceUsd
        ? null
        : new Rejection(Errors.InvalidPrice, $"{field} must be between {MinPriceUsd} and {MaxPriceUsd} USD.")
            .With("minimum", MinPriceUsd).With("maximum", MaxPriceUsd);

    public static (GuardedPrice State, TickDecision Decision) Apply(GuardedPrice state, PriceQuote tick, PricePolicy policy)
    {
        // Readings go forward in time: one older than the last accepted or held one (a silo whose node lags pushing an
        // earlier chain round), or the same reading again (every silo pushes each round), changes nothing. In particular
        // the held reading pushed again never confirms itself, and an old reading never drops a held one.
        if ((state.Accepted is { } last && tick.At < last.At) || (state.Held is { } pending && tick.At <= pending.At)
            || state.Accepted == tick)
            return (state, TickDecision.Ignored);
        if (state.Accepted is not { } accepted || IsWithinBand(accepted.PriceUsd, tick.PriceUsd, policy.MaxJumpBps))
            return (new GuardedPrice(tick, null), TickDecision.Accepted);
        if (state.Held is { } held && IsWithinBand(held.PriceUsd, tick.PriceUsd, policy.MaxJumpBps))
            return (new GuardedPrice(tick, null), TickDecision.Confirmed);
        return (state with { Held = tick }, TickDecision.Held);
    }

    /// <summary>The admin accepts the held tick as the price.</summary>
    public static GuardedPrice AcceptHeld(GuardedPrice state) => state.Held is { } held ? new GuardedPrice(held, null) : state;

    /// <summary>|next − reference| ≤ reference × maxJumpBps / 10000.</summary>
    public static bool IsWithinBand(decimal reference, decimal next, int maxJumpBps) =>
        Math.Abs(next - reference) <= reference * maxJumpBps / 10_000m;

    /// <summary>
    /// New exposure waits while a tick is held: the held price is public, and an open at the last accepted price while a
    /// real move waits for its confirmation would be a trade at a price the market has left. Exits and closes go on.
    /// </summary>
    public static Rejection? CheckNotHeld(decimal? heldPriceUsd, string symbol) => heldPriceUsd is { } held
        ? new Rejection(Errors.PriceHeld, $"A {symbol} price of {held} USD, far from the last one, is held until a later tick confirms or drops it; try again after the next price.")
            .With("heldPriceUsd", held)
        : null;

    /// <summary>New trades refuse a price older than the policy's age; exits keep using it.</summary>
    public static Rejection? CheckFresh(PriceQuote quote, string symbol, DateTimeOffset now, PricePolicy policy)
    {
        var age = now - quote.At;
        return age <= policy.MaxAge
            ? null
            : new Rejection(Errors.StalePrice, $"The last {symbol} price is {(long)age.TotalSeconds} s old; new trades need one at most {(long)policy.MaxAge.TotalSeconds} s old.")
                .With("ageSeconds", (long)age.TotalSeconds).With("maxAgeSeconds", (long)policy.MaxAge.TotalSeconds);
    }
}
