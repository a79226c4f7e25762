using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Sizing;

/// <summary>
/// Leverage bounds. PERPETUAL: at least 1.1 and at most the symbol's maximum (a default for symbols
/// without their own). SWAP: always 1 — spot has no leverage, whatever the request carried.
/// </summary>
public sealed record LeveragePolicy(decimal DefaultMaximum, IReadOnlyDictionary<string, decimal> MaximumBySymbol)
{
    public const decimal Minimum = 1.1m;

    public static LeveragePolicy Default { get; } = new(50m, new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase)
    {
        ["BTC"] = 100m,
        ["ETH"] = 100m,
        ["SOL"] = 50m,
    });

    public decimal MaximumFor(string symbol) =>
        MaximumBySymbol.TryGetValue(symbol, out var max) ? max : DefaultMaximum;

    /// <summary>The leverage to trade with, or why the requested one is refused.</summary>
    public Outcome<decimal> Resolve(AgentType agentType, string symbol, decimal requested)
    {
        if (agentType == AgentType.Swap) return 1m;
        if (requested < Minimum)
            return new Rejection(Errors.LeverageTooLow, $"Leverage {requested} is below the minimum of {Minimum}.")
                .With("minimum", Minimum);
        var maximum = MaximumFor(symbol);
        if (requested > maximum)
            return new Rejection(Errors.LeverageTooHigh, $"Leverage {requested} is above the maximum of {maximum} for {symbol}.")
                .With("maximum", maximum);
        return requested;
    }
}
