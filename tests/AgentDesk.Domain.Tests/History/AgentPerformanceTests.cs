using AgentDesk.Domain.History;

namespace AgentDesk.Domain.Tests.History;

/// <summary>The performance figures against a fixture computed by hand.</summary>
public sealed class AgentPerformanceTests
{
    private static readonly DateTimeOffset Day1 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Day2 = Day1.AddDays(1);

    private static HistoricalSwap Trade(string id, string symbol, string wallet, decimal pnl, DateTimeOffset opened, DateTimeOffset closed, string reason = "manual") =>
        new(id, "Org", Guid.Empty, wallet, symbol, null, "LONG", reason, null, 100m, opened, 101m, closed, 1m, 2m, true, pnl, 0.1m, id, null, null, "0xclose");

    [Fact]
    public void An_average_loss_is_rounded_down_so_it_is_never_shown_smaller_than_it_is()
    {
        // -1 over three sales is -0.333333|33…: rounded toward zero it would read as a smaller loss.
        var report = AgentPerformance.Compute([Trade("a", "SOL", "0xa", -1m, Day1, Day1.AddHours(1)), Trade("b", "SOL", "0xa", 0m, Day1, Day1.AddHours(2)),
            Trade("c", "SOL", "0xa", 0m, Day1, Day1.AddHours(3))]);
        Assert.Equal(-0.333334m, report.AverageRealizedPnlUsd);
        Assert.Equal(0m, report.WinRatePercent);
    }

    [Fact]
    public void Win_rate_drawdown_holding_time_and_breakdowns_match_the_hand_computed_figures()
    {
        // In close order: +10, -15, +20, -5. Cumulative 10, -5, 15, 10: the peak 10 falls to -5, a drawdown of 15.
        HistoricalSwap[] history =
        [
            Trade("t3", "ETH", "0xa", 20m, Day2, Day2.AddMinutes(30)),
            Trade("t1", "SOL", "0xa", 10m, Day1, Day1.AddHours(1)),
            Trade("c1", "SOL", "0xb", 0m, Day1, Day1.AddHours(2), HistoricalSwap.Cancelled),
            Trade("t4", "ETH", "0xa", -5m, Day2.AddHours(1), Day2.AddHours(2)),
            Trade("t2", "SOL", "0xb", -15m, Day1.AddHours(1), Day1.AddHours(3)),
        ];

        var report = AgentPerformance.Compute(history);

        Assert.Equal(4, report.Trades); // the cancelled order is not a trade
        Assert.Equal(2, report.Wins);
        Assert.Equal(2, report.Losses);
        Assert.Equal(50m, report.WinRatePercent);
        Assert.Equal(10m, report.TotalRealizedPnlUsd);
        Assert.Equal(2.5m, report.AverageRealizedPnlUsd);
        Assert.Equal(("t3", 20m), (report.Best!.HistoricalSwapId, report.Best.RealizedPnlUsd));
        Assert.Equal(("t2", -15m), (report.Worst!.HistoricalSwapId, report.Worst.RealizedPnlUsd));
        Assert.Equal(15m, report.MaxDrawdownUsd);
        Assert.Equal((3600 + 7200 + 1800 + 3600) / 4.0, report.AverageHoldingSeconds);
        Assert.Equal([new SymbolPerformance("ETH", 2, 15m), new SymbolPerformance("SOL", 2, -5m)], report.BySymbol);
        Assert.Equal([new DailyPerformance(DateOnly.FromDateTime(Day1.UtcDateTime), 2, -5m, 2), new DailyPerformance(DateOnly.FromDateTime(Day2.UtcDateTime), 2, 15m, 1)],
            report.ByDay);
    }

    [Fact]
    public void A_record_of_only_gains_has_no_drawdown_and_an_empty_record_is_all_zero()
    {
        var gains = AgentPerformance.Compute([Trade("a", "SOL", "0xa", 1m, Day1, Day1.AddHours(1)), Trade("b", "SOL", "0xa", 2m, Day1, Day1.AddHours(2))]);
        Assert.Equal(0m, gains.MaxDrawdownUsd);
        Assert.Equal(100m, gains.WinRatePercent);

        var empty = AgentPerformance.Compute([]);
        Assert.Equal(0, empty.Trades);
        Assert.Null(empty.Best);
        Assert.Empty(empty.ByDay);
    }

    [Fact]
    public void The_average_is_truncated_never_rounded_up()
    {
        var report = AgentPerformance.Compute([
            Trade("a", "SOL", "0xa", 1m, Day1, Day1.AddHours(1)), Trade("b", "SOL", "0xa", 1m, Day1, Day1.AddHours(1)),
            Trade("c", "SOL", "0xa", 0m, Day1, Day1.AddHours(1))]);
        Assert.Equal(0.666666m, report.AverageRealizedPnlUsd);
        Assert.Equal(66.6666m, report.WinRatePercent);
    }

    [Fact]
    public void A_record_built_while_rows_stream_in_close_order_equals_the_report_of_the_whole_list_and_refuses_rows_out_of_order()
    {
        HistoricalSwap[] trades =
        [
            Trade("a", "SOL", "0xa", 5m, Day1, Day1.AddHours(1)), Trade("b", "ETH", "0xb", -7m, Day1, Day1.AddHours(2)),
            Trade("c", "SOL", "0xA", 1m, Day1, Day2.AddHours(1)), Trade("d", "SOL", "0xc", -2m, Day1, Day2.AddHours(1)),
        ];
        var record = new PerformanceRecord();
        foreach (var trade in trades) record.Add(trade);
        var streamed = record.Report();
        var whole = AgentPerformance.Compute(trades.Reverse());

        Assert.Equal(whole with { BySymbol = [], ByDay = [] }, streamed with { BySymbol = [], ByDay = [] });
        Assert.Equal(whole.BySymbol, streamed.BySymbol);
        Assert.Equal(whole.ByDay, streamed.ByDay);
        Assert.Equal([new DailyPerformance(DateOnly.FromDateTime(Day1.UtcDateTime), 2, -2m, 2), new DailyPerformance(DateOnly.FromDateTime(Day2.UtcDateTime), 2, -1m, 2)],
            streamed.ByDay);
        Assert.Equal(8m, streamed.MaxDrawdownUsd); // from +5 down to -3

        Assert.Throws<ArgumentException>(() => record.Add(Trade("e", "SOL", "0xa", 1m, Day1, Day1.AddHours(3))));
        Assert.Throws<ArgumentException>(() => record.Add(Trade("c0", "SOL", "0xa", 1m, Day1, Day2.AddHours(1)))); // same time, smaller id
    }
}
