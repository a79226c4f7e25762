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
    /// <summary>The report of trades in any order (they are put in close order first).</summary>
    public static PerformanceReport Compute(IEnumerable<HistoricalSwap> history)
    {
        var record = new PerformanceRecord();
        foreach (var trade in history.OrderBy(t => t.ClosedAt).ThenBy(t => t.Id, StringComparer.Ordinal)) record.Add(trade);
        return record.Report();
    }
}

/// <summary>
/// An agent's track record built one trade at a time, in close order, so a long range is computed while its rows stream
/// from the store: what it holds grows with the agent's symbols and one day's trading accounts, not with its trades (an
/// agent with 10,000 subscribers has 73 million rows a year).
/// <para>
/// Win rate counts a trade with positive realized P/L as a win and anything else as a loss. The maximum drawdown is the
/// largest fall of the cumulative realized P/L from its running peak (the peak starts at 0), in trade close order.
/// Amounts are exact sums; the average and the percentage are truncated to 6 and 4 places (never rounded up).
/// </para>
/// </summary>
public sealed class PerformanceRecord
{
    private int _trades, _wins;
    private decimal _total, _peak, _drawdown;
    private double _heldSeconds;
    private HistoricalSwap? _best, _worst, _last;
    private readonly SortedDictionary<string, (int Trades, decimal Pnl)> _bySymbol = new(StringComparer.Ordinal);
    private readonly List<DailyPerformance> _byDay = [];
    private DateOnly _day;
    private int _dayTrades;
    private decimal _dayPnl;
    private readonly HashSet<string> _dayAccounts = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Adds a trade; trades come in close order (time, then id), and rows that are not sales are passed over.</summary>
    public void Add(HistoricalSwap trade)
    {
        if (!trade.IsSale) return;
        if (_last is not null && (trade.ClosedAt < _last.ClosedAt || (trade.ClosedAt == _last.ClosedAt && string.CompareOrdinal(trade.Id, _last.Id) < 0)))
            throw new ArgumentException($"Trades must come in close order: {trade.Id} closed before {_last.Id}.", nameof(trade));
        _last = trade;
        _trades++;
        if (trade.RealizedPnlUsd > 0m) _wins++;
        _total += trade.RealizedPnlUsd;
        _peak = Math.Max(_peak, _total);
        _drawdown = Math.Max(_drawdown, _peak - _total);
        _heldSeconds += trade.Held.TotalSeconds;
        // The first of equal extremes, in close order.
        if (_best is null || trade.RealizedPnlUsd > _best.RealizedPnlUsd) _best = trade;
        if (_worst is null || trade.RealizedPnlUsd < _worst.RealizedPnlUsd) _worst = trade;
        _bySymbol[trade.Symbol] = _bySymbol.TryGetValue(trade.Symbol, out var symbol) ? (symbol.Trades + 1, symbol.Pnl + trade.RealizedPnlUsd) : (1, trade.RealizedPnlUsd);
        var day = DateOnly.FromDateTime(trade.ClosedAt.UtcDateTime);
        if (_dayTrades > 0 && day != _day) CloseDay();
        _day = day;
        _dayTrades++;
        _dayPnl += trade.RealizedPnlUsd;
        _dayAccounts.Add(trade.WalletAddress);
    }

    public PerformanceReport Report()
    {
        if (_trades == 0) return new PerformanceReport(0, 0, 0, 0m, 0m, 0m, null, null, 0m, 0, [], []);
        var days = new List<DailyPerformance>(_byDay);
        if (_dayTrades > 0) days.Add(Today());
        return new PerformanceReport(
            _trades,
            _wins,
            _trades - _wins,
            Math.Round(100m * _wins / _trades, 4, MidpointRounding.ToNegativeInfinity),
            _total,
            Math.Round(_total / _trades, 6, MidpointRounding.ToNegativeInfinity),
            Extreme(_best!),
            Extreme(_worst!),
            _drawdown,
            _heldSeconds / _trades,
            _bySymbol.Select(s => new SymbolPerformance(s.Key, s.Value.Trades, s.Value.Pnl)).ToList(),
            days);
    }

    private DailyPerformance Today() => new(_day, _dayTrades, _dayPnl, _dayAccounts.Count);

    private void CloseDay()
    {
        _byDay.Add(Today());
        _dayTrades = 0;
        _dayPnl = 0m;
        _dayAccounts.Clear();
    }

    private static TradeExtreme Extreme(HistoricalSwap t) => new(t.Id, t.Symbol, t.RealizedPnlUsd, t.ClosedAt);
}
