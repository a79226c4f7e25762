using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Agents;

public enum FeeType
{
    /// <summary>A fixed amount of USDC per trade.</summary>
    Flat,
    /// <summary>Basis points of the trade's notional.</summary>
    Bps,
}

/// <summary>One named partner fee from the agent's registration (<c>agentFees.owner_flat</c> …).</summary>
public sealed record AgentFee(string Partner, decimal Fee, string FeeAddress, FeeType Type);

/// <summary>A fee actually charged on one trade, credited to <see cref="FeeAddress"/>.</summary>
public sealed record FeeCharge(string Partner, string FeeAddress, decimal AmountUsdc);

public static class FeeSchedule
{
    public const decimal MaxBps = 10_000m;

    /// <summary>Validates a registration's fee map: non-negative, BPS at most 10000, an address for each.</summary>
    public static Rejection? Validate(IReadOnlyList<AgentFee> fees)
    {
        foreach (var fee in fees)
        {
            if (string.IsNullOrWhiteSpace(fee.Partner))
                return new Rejection("invalid_fee", "Every fee needs a partner name.");
            if (fee.Fee < 0)
                return new Rejection("invalid_fee", $"Fee '{fee.Partner}' must not be negative.");
            if (fee.Type == FeeType.Bps && fee.Fee > MaxBps)
                return new Rejection("invalid_fee", $"Fee '{fee.Partner}' is {fee.Fee} bps; at most {MaxBps} bps.");
            if (string.IsNullOrWhiteSpace(fee.FeeAddress))
                return new Rejection("invalid_fee", $"Fee '{fee.Partner}' needs a feeAddress.");
        }
        return null;
    }

    /// <summary>
    /// The fees for one trade. FLAT is charged as is; BPS is charged on the notional the allocated
    /// collateral would open (allocated × leverage). Amounts are floored to USDC's 6 decimals, so a
    /// fee never takes a fraction of a base unit more than the schedule says.
    /// </summary>
    public static IReadOnlyList<FeeCharge> ChargesFor(IReadOnlyList<AgentFee> fees, decimal allocatedUsdc, decimal leverage)
    {
        var charges = new List<FeeCharge>(fees.Count);
        foreach (var fee in fees)
        {
            var amount = fee.Type switch
            {
                FeeType.Flat => Money.FloorUsdc(fee.Fee),
                FeeType.Bps => Money.FloorUsdc(allocatedUsdc * leverage * fee.Fee / MaxBps),
                _ => throw new ArgumentOutOfRangeException(nameof(fees)),
            };
            if (amount > 0) charges.Add(new FeeCharge(fee.Partner, fee.FeeAddress, amount));
        }
        return charges;
    }
}
