using AgentDesk.Domain.Tracks;

namespace AgentDesk.Domain.Tests.Tracks;

public class TrackLimitsTests
{
    private static readonly DateTimeOffset Noon = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TrackPolicy Track = new("Test", MaxTradeSizeBps: 1000, MaxDailyTurnoverBps: 2500, MaxDailyLossBps: 300, AgentDesk.Domain.Exits.ExitBounds.Unbounded);

    [Fact]
    public void A_trade_within_every_limit_passes()
    {
        Assert.Null(TrackLimits.CheckTrade(Track, 10_000m, 0m, DailyCounters.Start(Noon), 1_000m));
    }

    [Fact]
    public void Trade_size_limit_names_the_limit_and_headroom()
    {
        var rejection = TrackLimits.CheckTrade(Track, 10_000m, 0m, DailyCounters.Start(Noon), 1_000.01m)!;
        Assert.Equal("track_trade_size_exceeded", rejection.Code.Code);
        Assert.Equal("maxTradeSizeBps", rejection.Details!["limit"]);
        Assert.Equal("1000", rejection.Details["headroomUsdc"]);
    }

    [Fact]
    public void Daily_turnover_limit_reports_what_is_left_today()
    {
        var today = DailyCounters.Start(Noon).AddTurnover(Noon, 2_000m);
        var rejection = TrackLimits.CheckTrade(Track, 10_000m, 0m, today, 600m)!;
        Assert.Equal("track_daily_turnover_exceeded", rejection.Code.Code);
        Assert.Equal("500", rejection.Details!["headroomUsdc"]);
        Assert.Null(TrackLimits.CheckTrade(Track, 10_000m, 0m, today, 500m));
    }

    [Fact]
    public void Reaching_the_daily_loss_stops_new_trades_until_utc_midnight()
    {
        var today = DailyCounters.Start(Noon).AddRealizedPnl(Noon, -300m);
        Assert.Equal("track_daily_loss_reached", TrackLimits.CheckTrade(Track, 10_000m, 0m, today, 10m)!.Code.Code);

        var justBeforeMidnight = new DateTimeOffset(2026, 3, 1, 23, 59, 59, TimeSpan.Zero);
        Assert.Equal("track_daily_loss_reached", TrackLimits.CheckTrade(Track, 10_000m, 0m, today.ForDay(justBeforeMidnight), 10m)!.Code.Code);

        var midnight = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        var tomorrow = today.ForDay(midnight);
        Assert.Equal(0m, tomorrow.RealizedLossUsdc);
        Assert.Null(TrackLimits.CheckTrade(Track, 10_000m, 0m, tomorrow, 10m));
    }

    [Fact]
    public void The_utc_day_is_used_whatever_the_offset_of_the_clock()
    {
        var counters = DailyCounters.Start(Noon).AddTurnover(Noon, 100m);
        // 01:00 on 2 March in UTC+2 is 23:00 on 1 March in UTC: still the same day.
        var sameUtcDay = new DateTimeOffset(2026, 3, 2, 1, 0, 0, TimeSpan.FromHours(2));
        Assert.Equal(100m, counters.ForDay(sameUtcDay).TurnoverUsdc);
    }

    [Fact]
    public void A_clock_that_steps_back_across_midnight_keeps_the_new_days_counters()
    {
        var midnight = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        var today = DailyCounters.Start(midnight).AddTurnover(midnight, 900m).AddRealizedPnl(midnight, -50m);
        // A silo a second behind reads yesterday: the counters stay, rather than start afresh and forget today's use.
        var behind = today.ForDay(midnight.AddSeconds(-1));
        Assert.Equal((900m, 50m), (behind.TurnoverUsdc, behind.RealizedLossUsdc));
        Assert.Equal(950m, today.AddTurnover(midnight.AddSeconds(-1), 50m).TurnoverUsdc);
    }

    [Fact]
    public void A_refusal_after_midnight_gives_turnover_back_only_to_the_day_that_counted_it()
    {
        var beforeMidnight = new DateTimeOffset(2026, 3, 1, 23, 59, 0, TimeSpan.Zero);
        var afterMidnight = beforeMidnight.AddMinutes(2);
        var open = new AgentDesk.Domain.Intents.IntentRequest(AgentDesk.Domain.Intents.IntentKind.OpenPosition, "SOL", 1_000m, 0, 0, 0, 100, [], 0, 0, "");
        var ledger = AgentDesk.Domain.Intents.IntentLedger.Start(beforeMidnight).Consume(open, beforeMidnight);
        // Another trade after midnight moved the counters to the new day; then the venue refuses the first one.
        var nextDay = ledger with { Counters = ledger.Counters.AddTurnover(afterMidnight, 200m) };
        var refunded = nextDay.Refund(open, beforeMidnight);
        Assert.Equal(0m, refunded.DeployedUsdc);
        Assert.Equal(200m, refunded.Counters.TurnoverUsdc); // not -800: the new day's limit is not widened
        Assert.Equal(0m, ledger.Refund(open, beforeMidnight).Counters.TurnoverUsdc); // the same day gets it back
    }

    [Fact]
    public void Gains_do_not_offset_the_days_losses()
    {
        var counters = DailyCounters.Start(Noon).AddRealizedPnl(Noon, -100m).AddRealizedPnl(Noon, 500m);
        Assert.Equal(100m, counters.RealizedLossUsdc);
    }

    [Fact]
    public void Allocation_headroom_bounds_the_trade()
    {
        var rejection = TrackLimits.CheckTrade(Track, 10_000m, 9_500m, DailyCounters.Start(Noon), 600m)!;
        Assert.Equal("allocation_exceeded", rejection.Code.Code);
        Assert.Equal("500", rejection.Details!["headroomUsdc"]);
    }

    [Fact]
    public void Headroom_summarises_the_largest_next_trade()
    {
        var headroom = TrackLimits.Headroom(Track, 10_000m, 0m, DailyCounters.Start(Noon).AddTurnover(Noon, 2_000m));
        Assert.Equal(500m, headroom.MaxNextTradeUsdc);
    }

    [Fact]
    public void Builtin_tracks_require_stop_losses_and_funded_and_prime_take_profits()
    {
        Assert.True(Domain.Tracks.Tracks.Evaluation.ExitBounds.RequireStopLoss);
        Assert.False(Domain.Tracks.Tracks.Evaluation.ExitBounds.RequireTakeProfit);
        Assert.True(Domain.Tracks.Tracks.Funded.ExitBounds.RequireTakeProfit);
        Assert.True(Domain.Tracks.Tracks.Prime.ExitBounds.RequireTakeProfit);
    }
}
