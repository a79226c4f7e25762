using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Sizing;

namespace AgentDesk.Domain.Tests.Sizing;

public class TradeSizingTests
{
    private static readonly AgentFee[] NoFees = [];

    [Fact]
    public void Weight_is_the_share_of_free_collateral_floored_to_cents()
    {
        var sized = TradeSizing.Size(123.459m, 50, 2m, NoFees, FeeCaps.Default).Unwrap();
        Assert.Equal(61.72m, sized.CollateralUsdc); // 61.7295 floored, never rounded up to 61.73
        Assert.Equal(123.44m, sized.NotionalUsdc);
    }

    [Fact]
    public void Weight_100_uses_all_free_collateral()
    {
        Assert.Equal(250m, TradeSizing.Size(250m, 100, 2m, NoFees, FeeCaps.Default).Unwrap().CollateralUsdc);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100.01)]
    public void Weight_outside_zero_to_100_is_refused(double weight)
    {
        var outcome = TradeSizing.Size(100m, (decimal)weight, 2m, NoFees, FeeCaps.Default);
        Assert.Equal("invalid_weight", outcome.Rejection!.Code.Code);
    }

    [Fact]
    public void Exactly_five_usdc_is_allowed_and_a_cent_less_is_refused()
    {
        Assert.Equal(5m, TradeSizing.Size(5m, 100, 2m, NoFees, FeeCaps.Default).Unwrap().CollateralUsdc);
        var below = TradeSizing.Size(4.99m, 100, 2m, NoFees, FeeCaps.Default);
        Assert.Equal("below_min_trade_size", below.Rejection!.Code.Code);
        Assert.Equal("4.99", below.Rejection.Details!["collateralUsdc"]);
    }

    [Fact]
    public void An_overdrawn_account_sizes_nothing()
    {
        var overdrawn = TradeSizing.Size(-50m, 100, 2m, NoFees, FeeCaps.Default);
        Assert.Equal("below_min_trade_size", overdrawn.Rejection!.Code.Code);
        Assert.Equal("0", overdrawn.Rejection.Details!["collateralUsdc"]);
    }

    [Fact]
    public void Flat_and_bps_fees_are_charged_before_sizing()
    {
        AgentFee[] fees =
        [
            new("owner_flat", 0.1m, "0xflat", FeeType.Flat),
            new("owner_bps", 5m, "0xbps", FeeType.Bps),
        ];
        var sized = TradeSizing.Size(100m, 100, 2m, fees, FeeCaps.Default).Unwrap();
        // BPS is on the notional of the allocation: 100 × 2 × 5 / 10000 = 0.1
        Assert.Equal([0.1m, 0.1m], sized.Fees.Select(f => f.AmountUsdc));
        Assert.Equal(99.8m, sized.CollateralUsdc);
        Assert.Equal(0.2m, sized.FeesUsdc);
    }

    [Fact]
    public void Fees_that_push_a_trade_below_the_minimum_fail_it()
    {
        AgentFee[] fees = [new("owner_flat", 0.5m, "0xflat", FeeType.Flat)];
        var outcome = TradeSizing.Size(5.2m, 100, 2m, fees, FeeCaps.Default);
        Assert.Equal("below_min_trade_size", outcome.Rejection!.Code.Code);
    }

    [Fact]
    public void Bps_fees_round_down_to_usdc_units()
    {
        AgentFee[] fees = [new("owner_bps", 3m, "0xbps", FeeType.Bps)];
        var sized = TradeSizing.Size(10.01m, 100, 1.1m, fees, FeeCaps.Default).Unwrap();
        // 10.01 × 1.1 × 3 / 10000 = 0.0033033 → 0.003303
        Assert.Equal(0.003303m, sized.FeesUsdc);
    }
}

public class LeveragePolicyTests
{
    [Fact]
    public void Perpetual_accepts_exactly_the_minimum_and_refuses_below()
    {
        var policy = LeveragePolicy.Default;
        Assert.Equal(1.1m, policy.Resolve(AgentType.Perpetual, "SOL", 1.1m).Unwrap());
        var low = policy.Resolve(AgentType.Perpetual, "SOL", 1.09m);
        Assert.Equal("leverage_too_low", low.Rejection!.Code.Code);
        Assert.Equal("1.1", low.Rejection.Details!["minimum"]);
    }

    [Fact]
    public void Perpetual_maximum_is_per_symbol_with_a_default()
    {
        var policy = new LeveragePolicy(20m, new Dictionary<string, decimal> { ["BTC"] = 100m });
        Assert.Equal(100m, policy.Resolve(AgentType.Perpetual, "BTC", 100m).Unwrap());
        Assert.Equal("leverage_too_high", policy.Resolve(AgentType.Perpetual, "BTC", 100.5m).Rejection!.Code.Code);
        Assert.Equal("leverage_too_high", policy.Resolve(AgentType.Perpetual, "DOGE", 21m).Rejection!.Code.Code);
    }

    [Fact]
    public void Swap_always_trades_at_leverage_one()
    {
        Assert.Equal(1m, LeveragePolicy.Default.Resolve(AgentType.Swap, "SOL", 5m).Unwrap());
    }
}
