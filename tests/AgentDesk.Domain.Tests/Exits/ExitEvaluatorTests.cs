using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Tests.Exits;

public class ExitEvaluatorTests
{
    private static ExitSubject Long(decimal size = 10m, decimal entry = 100m, decimal leverage = 1m) => new(Side.Long, entry, leverage, size, 8);
    private static ExitSubject Short(decimal size = 10m, decimal entry = 100m, decimal leverage = 1m) => new(Side.Short, entry, leverage, size, 8);

    [Fact]
    public void Pnl_is_measured_on_margin_with_leverage()
    {
        Assert.Equal(-1000m, ExitEvaluator.PnlBps(Side.Long, 100m, 2m, 95m));
        Assert.Equal(1000m, ExitEvaluator.PnlBps(Side.Short, 100m, 2m, 95m));
    }

    [Fact]
    public void A_stop_loss_fires_at_its_level_not_before()
    {
        var plan = ExitPlan.FromLadder([new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]);
        Assert.Empty(ExitEvaluator.Evaluate(plan, Long(), 95.01m).Fills);
        var decision = ExitEvaluator.Evaluate(plan, Long(), 95m);
        Assert.Equal([new ExitFill(ExitReason.LadderStopLoss, 0, 10m)], decision.Fills);
        Assert.True(decision.ClosesPosition);
    }

    [Fact]
    public void Leverage_brings_the_stop_closer()
    {
        var plan = ExitPlan.FromLadder([new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]);
        Assert.Single(ExitEvaluator.Evaluate(plan, Long(leverage: 5m), 99m).Fills); // −1% × 5 = −500 bps
    }

    [Fact]
    public void Take_profit_then_stop_loss_sells_a_share_of_what_remains()
    {
        var plan = ExitPlan.FromLadder(
        [
            new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000),
            new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000),
        ]);
        var first = ExitEvaluator.Evaluate(plan, Long(), 110m);
        Assert.Equal([new ExitFill(ExitReason.LadderTakeProfit, 0, 5m)], first.Fills);
        Assert.Equal(5m, first.RemainingSize);

        // The fired take-profit does not fire again on a higher price.
        Assert.Empty(ExitEvaluator.Evaluate(first.Plan, Long(size: 5m), 120m).Fills);

        var second = ExitEvaluator.Evaluate(first.Plan, Long(size: 5m), 90m);
        Assert.Equal([new ExitFill(ExitReason.LadderStopLoss, 1, 5m)], second.Fills);
        Assert.Equal(0m, second.RemainingSize);
    }

    [Fact]
    public void A_gap_through_three_rules_fires_all_three_in_order_on_what_remains()
    {
        var plan = ExitPlan.FromLadder(
        [
            new ExitRule(ExitTriggerType.TakeProfit, 500, 5000),
            new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000),
            new ExitRule(ExitTriggerType.TakeProfit, 2000, 10_000),
        ]);
        var decision = ExitEvaluator.Evaluate(plan, Long(size: 8m), 125m);
        Assert.Equal(
            [new ExitFill(ExitReason.LadderTakeProfit, 0, 4m), new ExitFill(ExitReason.LadderTakeProfit, 1, 2m), new ExitFill(ExitReason.LadderTakeProfit, 2, 2m)],
            decision.Fills);
        Assert.Equal(0m, decision.RemainingSize);
        Assert.All(decision.Plan.Ladder, s => Assert.True(s.Fired));
    }

    [Fact]
    public void Partial_exits_round_the_sold_size_down_to_the_token_decimals()
    {
        var plan = ExitPlan.FromLadder([new ExitRule(ExitTriggerType.TakeProfit, 100, 3333), new ExitRule(ExitTriggerType.StopLoss, -100, 10_000)]);
        var decision = ExitEvaluator.Evaluate(plan, new ExitSubject(Side.Long, 100m, 1m, 1m, 2), 102m);
        Assert.Equal(0.33m, decision.Fills.Single().Size);
        Assert.Equal(0.67m, decision.RemainingSize);
    }

    [Fact]
    public void Short_positions_stop_out_when_the_price_rises()
    {
        var plan = ExitPlan.FromLadder([new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]);
        Assert.Empty(ExitEvaluator.Evaluate(plan, Short(), 104m).Fills);
        Assert.Equal(ExitReason.LadderStopLoss, ExitEvaluator.Evaluate(plan, Short(), 105m).Fills.Single().Reason);
        Assert.Equal(ExitReason.LadderTakeProfit, ExitEvaluator.Evaluate(plan, Short(), 90m).Fills.Single().Reason);
    }

    [Fact]
    public void Absolute_stop_and_target_prices_close_everything()
    {
        var plan = AbsoluteExits.Build(Side.Long, 100m, 90m, 120m, 0m).Unwrap();
        Assert.Empty(ExitEvaluator.Evaluate(plan, Long(), 100m).Fills);
        Assert.Equal(new ExitFill(ExitReason.StopLossPrice, null, 10m), ExitEvaluator.Evaluate(plan, Long(), 90m).Fills.Single());
        Assert.Equal(new ExitFill(ExitReason.TakeProfitPrice, null, 10m), ExitEvaluator.Evaluate(plan, Long(), 121m).Fills.Single());

        var shortPlan = AbsoluteExits.Build(Side.Short, 100m, 110m, 80m, 0m).Unwrap();
        Assert.Equal(ExitReason.StopLossPrice, ExitEvaluator.Evaluate(shortPlan, Short(), 110m).Fills.Single().Reason);
        Assert.Equal(ExitReason.TakeProfitPrice, ExitEvaluator.Evaluate(shortPlan, Short(), 80m).Fills.Single().Reason);
    }

    [Theory]
    [InlineData(1, 100, 0, "invalid_stop_loss_price")]
    [InlineData(1, 0, 99, "invalid_take_profit_price")]
    [InlineData(-1, 99, 0, "invalid_stop_loss_price")]
    [InlineData(-1, 0, 101, "invalid_take_profit_price")]
    public void Absolute_prices_on_the_wrong_side_are_refused(int side, int stop, int target, string code)
    {
        Assert.Equal(code, AbsoluteExits.Build((Side)side, 100m, stop, target, 0m).Rejection!.Code.Code);
    }

    [Theory]
    [InlineData(-1, "79000000000000000000000000000", "0")] // a SHORT's stop far above: kept, its trailing level would overflow
    [InlineData(-1, "1000000000001", "0")]
    [InlineData(1, "0.0000000000001", "0")]
    [InlineData(1, "0", "1000000000001")]
    public void Absolute_prices_no_feed_could_quote_are_refused(int side, string stop, string target)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        var refused = AbsoluteExits.Build((Side)side, 100m, decimal.Parse(stop, invariant), decimal.Parse(target, invariant), 1m).Rejection!;
        Assert.Equal("invalid_exit_price", refused.Code.Code);
        Assert.True(AbsoluteExits.IsUnsetOrPrice(0m) && AbsoluteExits.IsUnsetOrPrice(AgentDesk.Domain.Prices.PriceGuard.MaxPriceUsd) && !AbsoluteExits.IsUnsetOrPrice(-1m));
    }

    [Fact]
    public void A_trailing_stop_ratchets_with_the_peak_and_then_fires()
    {
        var plan = AbsoluteExits.Build(Side.Long, 100m, 0m, 0m, 10m).Unwrap();
        var position = Long();

        var up = ExitEvaluator.Evaluate(plan, position, 120m);
        Assert.Empty(up.Fills);
        Assert.Equal(120m, up.Plan.Trailing!.ExtremePrice);

        // 109 is above 120 × 0.9 = 108: no exit; the peak does not move down.
        var dip = ExitEvaluator.Evaluate(up.Plan, position, 109m);
        Assert.Empty(dip.Fills);
        Assert.Equal(120m, dip.Plan.Trailing!.ExtremePrice);

        var fire = ExitEvaluator.Evaluate(dip.Plan, position, 108m);
        Assert.Equal(new ExitFill(ExitReason.TrailingStop, null, 10m), fire.Fills.Single());
    }

    [Fact]
    public void A_short_trailing_stop_follows_the_trough()
    {
        var plan = AbsoluteExits.Build(Side.Short, 100m, 0m, 0m, 5m).Unwrap();
        var down = ExitEvaluator.Evaluate(plan, Short(), 80m);
        Assert.Equal(80m, down.Plan.Trailing!.ExtremePrice);
        Assert.Empty(ExitEvaluator.Evaluate(down.Plan, Short(), 83.99m).Fills);
        Assert.Equal(ExitReason.TrailingStop, ExitEvaluator.Evaluate(down.Plan, Short(), 84m).Fills.Single().Reason);
    }

    [Fact]
    public void Updating_the_ladder_forgets_fired_rules()
    {
        var plan = ExitPlan.FromLadder([new ExitRule(ExitTriggerType.TakeProfit, 500, 5000), new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]);
        var fired = ExitEvaluator.Evaluate(plan, Long(), 106m).Plan;
        Assert.True(fired.Ladder[0].Fired);
        var replaced = fired.WithLadder([new ExitRule(ExitTriggerType.TakeProfit, 500, 5000), new ExitRule(ExitTriggerType.StopLoss, -300, 10_000)]);
        Assert.All(replaced.Ladder, s => Assert.False(s.Fired));
        Assert.Single(ExitEvaluator.Evaluate(replaced, Long(size: 5m), 106m).Fills);
    }
}

public class TriggerOrderTests
{
    [Fact]
    public void An_order_placed_above_the_price_fills_when_the_price_rises_to_it()
    {
        var order = TriggerOrder.Place(110m, 100m).Unwrap();
        Assert.Equal(TriggerDirection.FillsAtOrAbove, order.Direction);
        Assert.False(order.IsReachedAt(109.99m));
        Assert.True(order.IsReachedAt(110m));
        Assert.True(order.IsReachedAt(130m));
    }

    [Fact]
    public void An_order_placed_below_the_price_fills_when_the_price_falls_to_it()
    {
        var order = TriggerOrder.Place(90m, 100m).Unwrap();
        Assert.False(order.IsReachedAt(95m));
        Assert.True(order.IsReachedAt(90m));
    }

    [Fact]
    public void Placement_needs_a_price_and_a_positive_trigger()
    {
        Assert.Equal("no_price", TriggerOrder.Place(90m, 0m).Rejection!.Code.Code);
        Assert.Equal("invalid_trigger_price", TriggerOrder.Place(-1m, 100m).Rejection!.Code.Code);
    }
}
