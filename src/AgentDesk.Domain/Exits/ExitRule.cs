using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Exits;

/// <summary>Numbered as the EIP-712 <c>ExitRule.triggerType</c> (uint8): StopLoss = 0, TakeProfit = 1.</summary>
public enum ExitTriggerType : byte
{
    StopLoss = 0,
    TakeProfit = 1,
}

/// <summary>
/// One rung of an exit ladder: when the position's PnL on margin reaches <see cref="TriggerBps"/>,
/// sell <see cref="ExitBps"/> of what remains (10000 = all of it).
/// </summary>
public sealed record ExitRule(ExitTriggerType TriggerType, int TriggerBps, int ExitBps)
{
    public static ExitTriggerType? ParseTriggerType(string? text) => text?.ToUpperInvariant() switch
    {
        "STOPLOSS" => ExitTriggerType.StopLoss,
        "TAKEPROFIT" => ExitTriggerType.TakeProfit,
        _ => null,
    };
}

/// <summary>The exit-rule ranges a track allows (<c>exitBounds</c> in a quote). Magnitudes in bps.</summary>
public sealed record ExitBounds(int MaxStopLossBps, int MinTakeProfitBps, int MaxTakeProfitBps, bool RequireStopLoss, bool RequireTakeProfit)
{
    /// <summary>No bounds beyond the structural rules (used by batch trades, which carry absolute prices instead).</summary>
    public static ExitBounds Unbounded { get; } = new(10_000, 1, 1_000_000, false, false);
}

public static class ExitLadder
{
    public const int FullExitBps = 10_000;
    public const int MaxRules = 16;

    /// <summary>
    /// Validates a ladder against the structural rules (StopLoss &lt; 0, TakeProfit &gt; 0, exitBps 1..10000,
    /// the last rule exits 10000) and the track's bounds. The first broken rule is reported, with its index.
    /// </summary>
    public static Rejection? Validate(IReadOnlyList<ExitRule> rules, ExitBounds bounds)
    {
        if (rules.Count == 0)
            return new Rejection(Errors.ExitsRequired, "An exit ladder with at least one rule is required.");
        if (rules.Count > MaxRules)
            return new Rejection(Errors.ExitLadderTooLong, $"An exit ladder has at most {MaxRules} rules; got {rules.Count}.");

        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            Rejection Bad(ErrorCode code, string message) => new Rejection(code, $"exits[{i}]: {message}").With("index", i);

            if (rule is null) return Bad(Errors.InvalidExitRule, "a rule is required here, not null.");

            if (!Enum.IsDefined(rule.TriggerType))
                return Bad(Errors.InvalidExitRule, "triggerType must be StopLoss or TakeProfit.");
            if (rule.ExitBps is < 1 or > FullExitBps)
                return Bad(Errors.InvalidExitBps, $"exitBps must be between 1 and {FullExitBps}; got {rule.ExitBps}.");
            if (rule.TriggerType == ExitTriggerType.StopLoss)
            {
                if (rule.TriggerBps >= 0)
                    return Bad(Errors.InvalidStopLoss, $"A StopLoss triggerBps must be negative; got {rule.TriggerBps}.");
                if (-(long)rule.TriggerBps > bounds.MaxStopLossBps)
                    return Bad(Errors.StopLossOutOfBounds, $"StopLoss {rule.TriggerBps} bps is wider than the track's maximum of -{bounds.MaxStopLossBps} bps.")
                        .With("maxStopLossBps", bounds.MaxStopLossBps);
            }
            else
            {
                if (rule.TriggerBps <= 0)
                    return Bad(Errors.InvalidTakeProfit, $"A TakeProfit triggerBps must be positive; got {rule.TriggerBps}.");
                if (rule.TriggerBps < bounds.MinTakeProfitBps || rule.TriggerBps > bounds.MaxTakeProfitBps)
                    return Bad(Errors.TakeProfitOutOfBounds,
                            $"TakeProfit {rule.TriggerBps} bps is outside the track's range {bounds.MinTakeProfitBps}..{bounds.MaxTakeProfitBps} bps.")
                        .With("minTakeProfitBps", bounds.MinTakeProfitBps)
                        .With("maxTakeProfitBps", bounds.MaxTakeProfitBps);
            }
        }

        if (rules[^1].ExitBps != FullExitBps)
            return new Rejection(Errors.LastRuleMustExitAll, $"The last exit rule must have exitBps {FullExitBps}; got {rules[^1].ExitBps}.")
                .With("index", rules.Count - 1);
        if (bounds.RequireStopLoss && !rules.Any(r => r.TriggerType == ExitTriggerType.StopLoss))
            return new Rejection(Errors.StopLossRequired, "This track requires a StopLoss rule in every exit ladder.");
        if (bounds.RequireTakeProfit && !rules.Any(r => r.TriggerType == ExitTriggerType.TakeProfit))
            return new Rejection(Errors.TakeProfitRequired, "This track requires a TakeProfit rule in every exit ladder.");
        return null;
    }
}
