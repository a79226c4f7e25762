namespace AgentDesk.Domain.History;

/// <summary>An agent's track record over a period, computed from its closed trades (sales only; cancelled orders are not trades).</summary>
public sealed record PerformanceReport(
    int Trades,
    int Wins,
    int Losses,
    decimal WinRatePercent,
    decimal TotalRealizedPnlUsd,
    decimal AverageRealizedPnlUsd,
    TradeExtreme? Best,
    TradeExtreme? Worst,
    decimal MaxDrawdownUsd,
    double AverageHoldingSeconds,
    IReadOnlyList<SymbolPerformance> BySymbol,
    IReadOnlyList<DailyPerformance> ByDay);

public sealed record TradeExtreme(string HistoricalSwapId, string Symbol, decimal RealizedPnlUsd, DateTimeOffset ClosedAt);

public sealed record SymbolPerformance(string Symbol, int Trades, decimal RealizedPnlUsd);

/// <summary>An agent's subscriber count at the end of a UTC day on which it changed.</summary>
public sealed record DailySubscribers(DateOnly Day, int Subscribers);

/// <summary>One UTC day: trades closed, their P/L, and how many distinct subscribers' accounts had a trade close.</summary>
public sealed record DailyPerformance(DateOnly Day, int Trades, decimal RealizedPnlUsd, int TradingSubscribers);

public static class AgentPerformance
{
    /// <summary>
    /// Win rate counts a trade with positive realized P/L as a win and anything else as a loss. The maximum drawdown is the
    /// largest fall of the cumulative realized P/L from its running peak (the peak starts at 0), in trade close order.
    /// Amounts are exact sums; the average and the percentage are truncated to 6 and 4 places (never rounded up).
    /// </summary>
    public static PerformanceReport Compute(IEnumerable<HistoricalSwap> history)
    {
        var trades = history.Where(t => t.IsSale).OrderBy(t => t.ClosedAt).ThenBy(t => t.Id, StringComparer.Ordinal).ToList();
        if (trades.Count == 0) return new PerformanceReport(0, 0, 0, 0m, 0m, 0m, null, null, 0m, 0, [], []);

        var wins = trades.Count(t => t.RealizedPnlUsd > 0m);
        var total = trades.Sum(t => t.RealizedPnlUsd);
        decimal cumulative = 0m, peak = 0m, drawdown = 0m;
        foreach (var trade in trades)
        {
            cumulative += trade.RealizedPnlUsd;
            peak = Math.Max(peak, cumulative);
            drawdown = Math.Max(drawdown, peak - cumulative);
        }
        var best = trades.MaxBy(t => t.RealizedPnlUsd)!;
        var worst = trades.MinBy(t => t.RealizedPnlUsd)!;
        return new PerformanceReport(
            trades.Count,
            wins,
            trades.Count - wins,
            Math.Round(100m * wins / trades.Count, 4, MidpointRounding.ToNegativeInfinity),
            total,
            Math.Round(total / trades.Count, 6, MidpointRounding.ToNegativeInfinity),
            Extreme(best),
            Extreme(worst),
            drawdown,
            trades.Average(t => t.Held.TotalSeconds),
            trades.GroupBy(t => t.Symbol).Select(g => new SymbolPerformance(g.Key, g.Count(), g.Sum(t => t.RealizedPnlUsd)))
                .OrderBy(s => s.Symbol, StringComparer.Ordinal).ToList(),
            trades.GroupBy(t => DateOnly.FromDateTime(t.ClosedAt.UtcDateTime))
                .Select(g => new DailyPerformance(g.Key, g.Count(), g.Sum(t => t.RealizedPnlUsd),
                    g.Select(t => t.WalletAddress).Distinct(StringComparer.OrdinalIgnoreCase).Count()))
                .OrderBy(d => d.Day).ToList());
    }

    private static TradeExtreme Extreme(HistoricalSwap t) => new(t.Id, t.Symbol, t.RealizedPnlUsd, t.ClosedAt);
}
