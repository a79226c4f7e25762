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
/// Sizes a batch trade for one subscriber (docs/domain.md, "Sizing"):
/// <c>collateral = floor_cents(free × weight / 100) − fees</c>, refused below 5 USDC.
/// </summary>
public static class TradeSizing
{
    public const decimal MaxWeight = 100m;

    public static Rejection? ValidateWeight(decimal weight) =>
        weight is > 0 and <= MaxWeight
            ? null
            : new Rejection(Errors.InvalidWeight, $"Weight must be greater than 0 and at most {MaxWeight}; got {weight}.");

    public static Outcome<SizedTrade> Size(decimal freeCollateralUsdc, decimal weight, decimal leverage, IReadOnlyList<AgentFee> fees, FeeCaps caps)
    {
        if (ValidateWeight(weight) is { } badWeight) return badWeight;
        // An account can be overdrawn (a batch step adopted an open made from an earlier balance): it has nothing to size from.
        return Money.Checked(() => SizeWithin(Math.Max(freeCollateralUsdc, 0m), weight, leverage, fees, caps), "The trade's size");
    }

    private static Outcome<SizedTrade> SizeWithin(decimal freeCollateralUsdc, decimal weight, decimal leverage, IReadOnlyList<AgentFee> fees, FeeCaps caps)
    {
        var allocated = Money.FloorCents(freeCollateralUsdc * weight / MaxWeight);
        var charges = FeeSchedule.ChargesFor(fees, allocated, leverage, caps);
        var collateral = allocated - charges.Sum(c => c.AmountUsdc);
        if (collateral < Money.MinimumTradeUsdc)
            return new Rejection(Errors.BelowMinTradeSize,
                    $"The trade would use {Math.Max(collateral, 0m)} USDC after fees; the minimum trade size is {Money.MinimumTradeUsdc} USDC.")
                .With("collateralUsdc", Math.Max(collateral, 0m))
                .With("minimumUsdc", Money.MinimumTradeUsdc);
        return new SizedTrade(allocated, charges, collateral, leverage);
    }
}
