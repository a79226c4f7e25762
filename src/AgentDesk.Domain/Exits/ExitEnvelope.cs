using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Exits;

/// <summary>
/// The price band inside which nothing about a position can change: no ladder rung, absolute price,
/// trailing stop or trigger is reached and no trailing extreme moves. The exit index compares each tick
/// with this band in a plain loop and calls only the positions outside it, so one tick does not have to
/// reach every position on the symbol. Null bounds are open.
/// </summary>
public readonly record struct ExitEnvelope(decimal? Lower, decimal? Upper)
{
    // Levels are solved from pnlBps by division; widening by a part in 10^18 keeps decimal rounding from
    // ever placing a level outside the band (a call too many is harmless, a missed exit is not).
    private const decimal Margin = 0.000000000000000001m;

    public bool IsReachedBy(decimal price) => (Lower is { } low && price <= low) || (Upper is { } high && price >= high);

    public static ExitEnvelope ForPending(TriggerOrder order) => order.Direction == TriggerDirection.FillsAtOrBelow
        ? new ExitEnvelope(order.TriggerPrice, null)
        : new ExitEnvelope(null, order.TriggerPrice);

    public static ExitEnvelope ForOpen(ExitPlan plan, ExitSubject position)
    {
        decimal? lower = null, upper = null;
        void Below(decimal level) => lower = lower is { } l ? Math.Max(l, level) : level;
        void Above(decimal level) => upper = upper is { } u ? Math.Min(u, level) : level;
        var isLong = position.Side == Side.Long;

        foreach (var step in plan.Ladder)
        {
            if (step.Fired) continue;
            // pnlBps = side × (p − entry) / entry × 10000 × leverage  ⇒  p = entry × (1 + side × bps / (10000 × leverage))
            var level = position.EntryPrice * (1 + position.Side.Sign() * step.Rule.TriggerBps / (10_000m * position.Leverage));
            // A stop is reached by prices on the losing side, a target on the winning side.
            var reachedFromBelow = (step.Rule.TriggerType == ExitTriggerType.StopLoss) == isLong;
            if (reachedFromBelow) Below(level * (1 + Margin));
            else Above(level * (1 - Margin));
        }

        if (plan.StopLossPrice is { } stop)
        {
            if (isLong) Below(stop); else Above(stop);
        }
        if (plan.TakeProfitPrice is { } target)
        {
            if (isLong) Above(target); else Below(target);
        }
        if (plan.Trailing is { } trailing)
        {
            var level = ExitEvaluator.TrailingStopLevel(trailing, position.Side);
            // The extreme itself moves when the price passes it, which must be recorded too.
            if (isLong)
            {
                Below(level * (1 + Margin));
                Above(trailing.ExtremePrice);
            }
            else
            {
                Above(level * (1 - Margin));
                Below(trailing.ExtremePrice);
            }
        }
        return new ExitEnvelope(lower, upper);
    }
}
