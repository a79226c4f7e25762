using AgentDesk.Domain.Common;
using AgentDesk.Domain.Prices;

namespace AgentDesk.Domain.Exits;

/// <summary>A ladder rule and whether it has fired (each rule fires at most once per ladder).</summary>
public sealed record LadderStep(ExitRule Rule, bool Fired);

/// <summary>
/// A trailing stop: close everything when the price falls <see cref="Percentage"/> percent from the best
/// price seen since opening (<see cref="ExtremePrice"/>: the peak for a long, the trough for a short).
/// </summary>
public sealed record TrailingStop(decimal Percentage, decimal ExtremePrice);

/// <summary>Everything that can close a position on its own: the ladder, absolute prices, a trailing stop.</summary>
public sealed record ExitPlan(
    IReadOnlyList<LadderStep> Ladder,
    decimal? StopLossPrice,
    decimal? TakeProfitPrice,
    TrailingStop? Trailing)
{
    public static ExitPlan None { get; } = new([], null, null, null);

    public static ExitPlan FromLadder(IReadOnlyList<ExitRule> rules) =>
        None with { Ladder = rules.Select(r => new LadderStep(r, false)).ToArray() };

    /// <summary>Replaces the ladder (an UpdateExitLadder intent); fired steps of the old ladder are forgotten.</summary>
    public ExitPlan WithLadder(IReadOnlyList<ExitRule> rules) =>
        this with { Ladder = rules.Select(r => new LadderStep(r, false)).ToArray() };

    public IEnumerable<ExitRule> PendingRules => Ladder.Where(s => !s.Fired).Select(s => s.Rule);
}

public static class AbsoluteExits
{
    /// <summary>
    /// Builds the absolute-price part of a plan (batch <c>orderOptions.stopLossPrice</c> / <c>takeProfitPrice</c>,
    /// where 0 means unset) and an optional trailing stop. A stop or target on the wrong side of the
    /// reference price would fire at once, so it is refused.
    /// </summary>
    public static Outcome<ExitPlan> Build(Side side, decimal referencePrice, decimal stopLossPrice, decimal takeProfitPrice, decimal trailingStopPercentage)
    {
        if (!IsUnsetOrPrice(stopLossPrice) || !IsUnsetOrPrice(takeProfitPrice))
            return new Rejection(Errors.InvalidExitPrice,
                    $"stopLossPrice and takeProfitPrice must be 0 (unset) or between {PriceGuard.MinPriceUsd} and {PriceGuard.MaxPriceUsd} USD.")
                .With("minimum", PriceGuard.MinPriceUsd).With("maximum", PriceGuard.MaxPriceUsd);
        if (trailingStopPercentage is < 0 or >= 100)
            return new Rejection(Errors.InvalidTrailingStop, $"trailingStopPercentage must be 0 (unset) or between 0 and 100; got {trailingStopPercentage}.");
        var isLong = side == Side.Long;
        if (stopLossPrice > 0 && (isLong ? stopLossPrice >= referencePrice : stopLossPrice <= referencePrice))
            return new Rejection(Errors.InvalidStopLossPrice,
                $"A {(isLong ? "LONG" : "SHORT")} stopLossPrice must be {(isLong ? "below" : "above")} the entry price {referencePrice}; got {stopLossPrice}.");
        if (takeProfitPrice > 0 && (isLong ? takeProfitPrice <= referencePrice : takeProfitPrice >= referencePrice))
            return new Rejection(Errors.InvalidTakeProfitPrice,
                $"A {(isLong ? "LONG" : "SHORT")} takeProfitPrice must be {(isLong ? "above" : "below")} the entry price {referencePrice}; got {takeProfitPrice}.");
        return ExitPlan.None with
        {
            StopLossPrice = stopLossPrice > 0 ? stopLossPrice : null,
            TakeProfitPrice = takeProfitPrice > 0 ? takeProfitPrice : null,
            Trailing = trailingStopPercentage > 0 ? new TrailingStop(trailingStopPercentage, referencePrice) : null,
        };
    }

    /// <summary>
    /// 0 (unset), or a price a feed could quote (<see cref="PriceGuard.Validate"/>): one beyond would be kept on a position
    /// that can never reach it, and its arithmetic (a trailing level above it) would overflow.
    /// </summary>
    public static bool IsUnsetOrPrice(decimal price) => price == 0 || PriceGuard.Validate(price, "") is null;
}
