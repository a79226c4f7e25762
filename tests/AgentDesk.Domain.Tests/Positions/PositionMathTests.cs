using AgentDesk.Domain.Common;
using AgentDesk.Domain.Positions;

namespace AgentDesk.Domain.Tests.Positions;

public class PositionMathTests
{
    [Fact]
    public void Open_sizes_margin_times_leverage_at_the_price_rounded_down()
    {
        var position = PositionMath.Open(Side.Long, 100m, 2m, 3m, 6).Unwrap();
        Assert.Equal(66.666666m, position.Size);
        Assert.Equal(3m, position.EntryPrice);
        Assert.Equal(100m, position.MarginUsdc);
    }

    [Fact]
    public void Add_moves_the_entry_to_the_size_weighted_average()
    {
        var position = PositionMath.Open(Side.Long, 100m, 1m, 100m, 8).Unwrap();   // 1 @ 100
        var added = PositionMath.Add(position, 300m, 150m, 2m).Unwrap();           // +2 @ 150
        Assert.Equal(3m, added.Size);
        Assert.Equal(400m / 3m, added.EntryPrice);
        Assert.Equal(400m, added.MarginUsdc);
    }

    [Fact]
    public void Reduce_realises_pnl_on_the_sold_part_and_releases_margin_in_proportion()
    {
        var position = PositionMath.Open(Side.Long, 100m, 2m, 100m, 8).Unwrap(); // 2 @ 100
        var half = PositionMath.Reduce(position, 1m, 110m).Unwrap();
        Assert.Equal(10m, half.RealizedPnlUsdc);
        Assert.Equal(50m, half.ReleasedMarginUsdc);
        Assert.Equal(60m, half.PayoutUsdc);
        Assert.Equal(1m, half.After.Size);
        Assert.False(half.Closed);

        var rest = PositionMath.Close(half.After, 90m).Unwrap();
        Assert.Equal(-10m, rest.RealizedPnlUsdc);
        Assert.Equal(40m, rest.PayoutUsdc);
        Assert.True(rest.Closed);
        Assert.Equal(0m, rest.After.MarginUsdc);
        Assert.Equal(0m, rest.After.RealizedPnlUsdc);
    }

    [Fact]
    public void Short_positions_profit_when_the_price_falls()
    {
        var position = PositionMath.Open(Side.Short, 100m, 2m, 100m, 8).Unwrap();
        var closed = PositionMath.Close(position, 90m).Unwrap();
        Assert.Equal(20m, closed.RealizedPnlUsdc);
        Assert.Equal(120m, closed.PayoutUsdc);
    }

    [Fact]
    public void A_loss_beyond_the_margin_pays_out_nothing_rather_than_a_negative_amount_and_books_the_margin_lost()
    {
        var position = PositionMath.Open(Side.Long, 100m, 10m, 100m, 8).Unwrap();
        var closed = PositionMath.Close(position, 80m).Unwrap();
        // The market moved against 10 × 100 by 20 %, 200 USDC; the account had 100 of margin at stake and loses that.
        Assert.Equal(0m, closed.PayoutUsdc);
        Assert.Equal(-100m, closed.RealizedPnlUsdc);
        Assert.Equal(-100m, closed.After.RealizedPnlUsdc);
    }

    [Fact]
    public void A_partial_sale_beyond_its_share_of_the_margin_books_that_share_and_leaves_the_rest_at_stake()
    {
        var position = PositionMath.Open(Side.Long, 100m, 10m, 100m, 8).Unwrap(); // size 10, margin 100
        var half = PositionMath.Reduce(position, 5m, 70m).Unwrap();                // −150 on half, 50 of margin released
        Assert.Equal((0m, -50m, 50m), (half.PayoutUsdc, half.RealizedPnlUsdc, half.After.MarginUsdc));
        var rest = PositionMath.Close(half.After, 105m).Unwrap();                  // +25 on the rest
        Assert.Equal((75m, 25m, -25m), (rest.PayoutUsdc, rest.RealizedPnlUsdc, rest.After.RealizedPnlUsdc));
    }

    [Fact]
    public void Selling_more_than_is_held_is_refused()
    {
        var position = PositionMath.Open(Side.Long, 100m, 1m, 100m, 8).Unwrap();
        var rejection = PositionMath.Reduce(position, 1.00000001m, 100m).Rejection!;
        Assert.Equal("insufficient_position_size", rejection.Code.Code);
    }

    [Fact]
    public void Valuation_reports_usd_native_percent_and_price_change()
    {
        // The seed's example: 1,000,000 BONK bought at 0.000234, now 0.000256, SOL at 100.
        var position = new PositionState(Side.Long, 1_000_000m, 0.000234m, 1m, 234m, 0m, 5);
        var value = PositionMath.Value(position, 0.000256m, 100m)!;
        Assert.Equal(256m, value.ValueUsd);
        Assert.Equal(2.56m, value.ValueNative);
        Assert.Equal(22m, value.ProfitLossUsd);
        Assert.Equal(0.22m, value.ProfitLossNative);
        Assert.Equal(9.4m, Math.Round(value.ProfitLossPercent, 1));
        Assert.Equal(9.4m, Math.Round(value.PriceChangePercent, 1));
    }

    [Fact]
    public void With_leverage_pnl_percent_is_on_margin_and_price_change_is_not()
    {
        var position = PositionMath.Open(Side.Long, 100m, 3m, 100m, 8).Unwrap();
        var value = PositionMath.Value(position, 110m, 0m)!;
        Assert.Equal(30m, value.ProfitLossPercent);
        Assert.Equal(10m, value.PriceChangePercent);
        Assert.Equal(0m, value.ValueNative); // no native price known
    }
}
