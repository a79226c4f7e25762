using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Exits;

public enum ExitReason
{
    LadderStopLoss,
    LadderTakeProfit,
    StopLossPrice,
    TakeProfitPrice,
    TrailingStop,
}

public static class ExitReasons
{
    /// <summary>The reason as the API and the trade history name it.</summary>
    public static string ToWire(this ExitReason reason) => reason switch
    {
        ExitReason.LadderStopLoss => "ladder_stop_loss",
        ExitReason.LadderTakeProfit => "ladder_take_profit",
        ExitReason.StopLossPrice => "stop_loss",
        ExitReason.TakeProfitPrice => "take_profit",
        ExitReason.TrailingStop => "trailing_stop",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}

/// <summary>One sale an exit decided: how much of the position to sell and why.</summary>
public sealed record ExitFill(ExitReason Reason, int? LadderIndex, decimal Size);

/// <summary>The outcome of one price on one position: the updated plan, the sales, and what remains.</summary>
public sealed record ExitDecision(ExitPlan Plan, IReadOnlyList<ExitFill> Fills, decimal RemainingSize)
{
    public bool ClosesPosition => RemainingSize == 0 && Fills.Count > 0;
}

/// <summary>What the evaluator needs to know about the open position.</summary>
public readonly record struct ExitSubject(Side Side, decimal EntryPrice, decimal Leverage, decimal Size, int SizeDecimals);

/// <summary>
/// Evaluates a position's exits on one price (docs/domain.md, "Exit ladders"). Exits are decided on levels, not crossings
/// ("PnL ≤ stop"), so a lost tick is healed by the next one and splitting a path into more ticks fires
/// the same level-based rules.
/// </summary>
public static class ExitEvaluator
{
    /// <summary>PnL on margin in bps: side × (price − entry) / entry × 10000 × leverage.</summary>
    public static decimal PnlBps(Side side, decimal entryPrice, decimal leverage, decimal price) =>
        side.Sign() * (price - entryPrice) / entryPrice * 10_000m * leverage;

    public static ExitDecision Evaluate(ExitPlan plan, ExitSubject position, decimal price)
    {
        if (price <= 0) throw new ArgumentOutOfRangeException(nameof(price), "Prices are positive.");
        var remaining = position.Size;
        var fills = new List<ExitFill>();
        var pnlBps = PnlBps(position.Side, position.EntryPrice, position.Leverage, price);

        // 1. The ladder, in array order; each step at most once; several on one tick (a gap), each on what remains.
        var steps = plan.Ladder.ToArray();
        for (var i = 0; i < steps.Length && remaining > 0; i++)
        {
            var step = steps[i];
            if (step.Fired || !IsReached(step.Rule, pnlBps)) continue;
            var sell = step.Rule.ExitBps == ExitLadder.FullExitBps
                ? remaining
                : Money.RoundDown(remaining * step.Rule.ExitBps / ExitLadder.FullExitBps, position.SizeDecimals);
            steps[i] = step with { Fired = true };
            if (sell <= 0) continue; // a dust remainder: the rung is spent, nothing is sold
            remaining -= sell;
            var reason = step.Rule.TriggerType == ExitTriggerType.StopLoss ? ExitReason.LadderStopLoss : ExitReason.LadderTakeProfit;
            fills.Add(new ExitFill(reason, i, sell));
        }

        // 2. The trailing stop's extreme moves with the price before it is checked.
        var trailing = plan.Trailing;
        if (trailing is not null)
        {
            var extreme = position.Side == Side.Long
                ? Math.Max(trailing.ExtremePrice, price)
                : Math.Min(trailing.ExtremePrice, price);
            trailing = trailing with { ExtremePrice = extreme };
        }

        // 3. Absolute prices and the trailing stop close whatever remains.
        if (remaining > 0)
        {
            var reason = AbsoluteExitReached(plan, trailing, position.Side, price);
            if (reason is { } why)
            {
                fills.Add(new ExitFill(why, null, remaining));
                remaining = 0;
            }
        }

        return new ExitDecision(plan with { Ladder = steps, Trailing = trailing }, fills, remaining);
    }

    private static bool IsReached(ExitRule rule, decimal pnlBps) => rule.TriggerType == ExitTriggerType.StopLoss
        ? pnlBps <= rule.TriggerBps
        : pnlBps >= rule.TriggerBps;

    private static ExitReason? AbsoluteExitReached(ExitPlan plan, TrailingStop? trailing, Side side, decimal price)
    {
        var isLong = side == Side.Long;
        if (plan.StopLossPrice is { } stop && (isLong ? price <= stop : price >= stop)) return ExitReason.StopLossPrice;
        if (plan.TakeProfitPrice is { } target && (isLong ? price >= target : price <= target)) return ExitReason.TakeProfitPrice;
        if (trailing is not null && TrailingStopLevel(trailing, side) is var level && (isLong ? price <= level : price >= level))
            return ExitReason.TrailingStop;
        return null;
    }

    /// <summary>The price at which the trailing stop fires: peak × (1 − p%) for a long, trough × (1 + p%) for a short.</summary>
    public static decimal TrailingStopLevel(TrailingStop trailing, Side side) => side == Side.Long
        ? trailing.ExtremePrice * (1 - trailing.Percentage / 100m)
        : trailing.ExtremePrice * (1 + trailing.Percentage / 100m);
}
