using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Sizing;

/// <summary>What one subscriber puts into one trade: margin after fees, the fees, and the notional.</summary>
public sealed record SizedTrade(decimal AllocatedUsdc, IReadOnlyList<FeeCharge> Fees, decimal CollateralUsdc, decimal Leverage)
{
    public decimal FeesUsdc => Fees.Sum(f => f.AmountUsdc);
    public decimal NotionalUsdc => CollateralUsdc * Leverage;
}

/// <summary>
/// Sizes a batch trade for one subscriber (DESIGN §3.2):
/// <c>collateral = floor_cents(free × weight / 100) − fees</c>, refused below 5 USDC.
/// </summary>
public static class TradeSizing
{
    public const decimal MaxWeight = 100m;

    public static Rejection? ValidateWeight(decimal weight) =>
        weight is > 0 and <= MaxWeight
            ? null
            : new Rejection("invalid_weight", $"Weight must be greater than 0 and at most {MaxWeight}; got {weight}.");

    public static Outcome<SizedTrade> Size(decimal freeCollateralUsdc, decimal weight, decimal leverage, IReadOnlyList<AgentFee> fees)
    {
        if (ValidateWeight(weight) is { } badWeight) return badWeight;
        if (freeCollateralUsdc < 0) throw new ArgumentOutOfRangeException(nameof(freeCollateralUsdc), "Free collateral cannot be negative.");

        var allocated = Money.FloorCents(freeCollateralUsdc * weight / MaxWeight);
        var charges = FeeSchedule.ChargesFor(fees, allocated, leverage);
        var collateral = allocated - charges.Sum(c => c.AmountUsdc);
        if (collateral < Money.MinimumTradeUsdc)
            return new Rejection("below_min_trade_size",
                    $"The trade would use {Math.Max(collateral, 0m)} USDC after fees; the minimum trade size is {Money.MinimumTradeUsdc} USDC.")
                .With("collateralUsdc", Math.Max(collateral, 0m))
                .With("minimumUsdc", Money.MinimumTradeUsdc);
        return new SizedTrade(allocated, charges, collateral, leverage);
    }
}
