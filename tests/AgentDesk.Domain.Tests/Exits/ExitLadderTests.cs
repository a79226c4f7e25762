using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Tests.Exits;

public class ExitLadderTests
{
    private static ExitRule Sl(int bps, int exit = 10_000) => new(ExitTriggerType.StopLoss, bps, exit);
    private static ExitRule Tp(int bps, int exit = 10_000) => new(ExitTriggerType.TakeProfit, bps, exit);

    [Fact]
    public void The_seed_ladders_are_valid()
    {
        Assert.Null(ExitLadder.Validate([Sl(-500)], ExitBounds.Unbounded));
        Assert.Null(ExitLadder.Validate([Tp(1000, 5000), Sl(-1000)], ExitBounds.Unbounded));
    }

    [Theory]
    [InlineData(0, 0, 10_000, "invalid_stop_loss")]
    [InlineData(0, 100, 10_000, "invalid_stop_loss")]
    [InlineData(1, 0, 10_000, "invalid_take_profit")]
    [InlineData(1, -5, 10_000, "invalid_take_profit")]
    [InlineData(0, -100, 0, "invalid_exit_bps")]
    [InlineData(0, -100, 10_001, "invalid_exit_bps")]
    [InlineData(0, -100, 5_000, "last_rule_must_exit_all")]
    public void Structural_rule_violations_are_named(byte type, int triggerBps, int exitBps, string code)
    {
        var rejection = ExitLadder.Validate([new ExitRule((ExitTriggerType)type, triggerBps, exitBps)], ExitBounds.Unbounded);
        Assert.Equal(code, rejection!.Code.Code);
    }

    [Fact]
    public void An_empty_ladder_is_refused()
    {
        Assert.Equal("exits_required", ExitLadder.Validate([], ExitBounds.Unbounded)!.Code.Code);
    }

    [Fact]
    public void A_missing_rule_is_refused_with_its_index()
    {
        var refused = ExitLadder.Validate([Sl(-500), null!], ExitBounds.Unbounded)!;
        Assert.Equal("invalid_exit_rule", refused.Code.Code);
        Assert.StartsWith("exits[1]:", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Track_bounds_apply_to_stop_loss_and_take_profit()
    {
        var bounds = new ExitBounds(1000, 200, 3000, RequireStopLoss: false, RequireTakeProfit: false);
        Assert.Null(ExitLadder.Validate([Sl(-1000)], bounds));
        var wide = ExitLadder.Validate([Sl(-1001)], bounds)!;
        Assert.Equal("stop_loss_out_of_bounds", wide.Code.Code);
        Assert.Equal("1000", wide.Details!["maxStopLossBps"]);
        Assert.Equal("take_profit_out_of_bounds", ExitLadder.Validate([Tp(199)], bounds)!.Code.Code);
        Assert.Equal("take_profit_out_of_bounds", ExitLadder.Validate([Tp(3001)], bounds)!.Code.Code);
        Assert.Null(ExitLadder.Validate([Tp(200, 5000), Tp(3000)], bounds));
    }

    [Fact]
    public void Required_stop_loss_and_take_profit()
    {
        var requireBoth = new ExitBounds(1000, 100, 3000, RequireStopLoss: true, RequireTakeProfit: true);
        Assert.Equal("stop_loss_required", ExitLadder.Validate([Tp(500)], requireBoth)!.Code.Code);
        Assert.Equal("take_profit_required", ExitLadder.Validate([Sl(-500)], requireBoth)!.Code.Code);
        Assert.Null(ExitLadder.Validate([Tp(500, 5000), Sl(-500)], requireBoth));
    }

    [Fact]
    public void The_broken_rule_is_identified_by_index()
    {
        var rejection = ExitLadder.Validate([Tp(500, 5000), Sl(-500, 0), Sl(-900)], ExitBounds.Unbounded)!;
        Assert.Equal("invalid_exit_bps", rejection.Code.Code);
        Assert.Equal("1", rejection.Details!["index"]);
        Assert.StartsWith("exits[1]", rejection.Message);
    }
}
