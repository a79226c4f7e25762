using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Agents;

public enum FeeType
{
    /// <summary>A fixed amount of USDC per trade.</summary>
    Flat,
    /// <summary>Basis points of the trade's notional.</summary>
    Bps,
}

public static class FeeTypes
{
    /// <summary>"FLAT" or "BPS" (any case); anything else is not a fee type.</summary>
    public static FeeType? Parse(string? text) => text?.ToUpperInvariant() switch
    {
        "FLAT" => FeeType.Flat,
        "BPS" => FeeType.Bps,
        _ => null,
    };

    public static string ToWire(this FeeType type) => type == FeeType.Bps ? "BPS" : "FLAT";
}

/// <summary>One named partner fee from the agent's registration (<c>agentFees.owner_flat</c> …).</summary>
public sealed record AgentFee(string Partner, decimal Fee, string FeeAddress, FeeType Type);

/// <summary>A fee actually charged on one trade, credited to <see cref="FeeAddress"/>.</summary>
public sealed record FeeCharge(string Partner, string FeeAddress, decimal AmountUsdc)
{
    /// <summary>
    /// Many trades' charges as one entry per fee address: each partner's total there. A batch settles its fees with each
    /// fee address's ledger in one call (credit or refund), not one per subscriber.
    /// </summary>
    public static IEnumerable<(string FeeAddress, FeeCharge[] Totals)> ByAddress(IEnumerable<FeeCharge> charges) =>
        charges.GroupBy(f => f.FeeAddress).Select(byAddress => (byAddress.Key,
            byAddress.GroupBy(f => f.Partner).Select(g => new FeeCharge(g.Key, byAddress.Key, g.Sum(f => f.AmountUsdc))).ToArray()));
}

/// <summary>
/// Platform caps on fees (section <c>AgentDesk:Risk</c>): a FLAT fee per trade, a BPS fee, and the share of a
/// trade's collateral that all fees together may take.
/// </summary>
public sealed record FeeCaps(decimal MaxFlatFeeUsdc, int MaxFeeBps, int MaxFeeShareBps)
{
    public static FeeCaps Default { get; } = new(10m, 500, 500);
}

public static class FeeSchedule
{
    public const decimal MaxBps = 10_000m;
    public const int MaxFees = 16;
    public const int MaxPartnerLength = 64;

    /// <summary>Validates a registration's fee map against the structural rules and the platform caps.</summary>
    public static Rejection? Validate(IReadOnlyList<AgentFee> fees, FeeCaps caps)
    {
        if (fees.Count > MaxFees) return new Rejection(Errors.InvalidFee, $"At most {MaxFees} fees.");
        foreach (var fee in fees)
        {
            if (string.IsNullOrWhiteSpace(fee.Partner) || fee.Partner.Length > MaxPartnerLength)
                return new Rejection(Errors.InvalidFee, $"Every fee needs a partner name of at most {MaxPartnerLength} characters.");
            if (fee.Fee < 0)
                return new Rejection(Errors.InvalidFee, $"Fee '{fee.Partner}' must not be negative.");
            if (!EthAddress.IsValid(fee.FeeAddress))
                return new Rejection(Errors.InvalidFee, $"Fee '{fee.Partner}' needs a feeAddress: 0x followed by 40 hex digits.");
            if (fee.Type == FeeType.Flat && fee.Fee > caps.MaxFlatFeeUsdc)
                return new Rejection(Errors.FeeTooHigh, $"Fee '{fee.Partner}' is {fee.Fee} USDC per trade; the platform allows at most {caps.MaxFlatFeeUsdc}.")
                    .With("maximum", caps.MaxFlatFeeUsdc);
            if (fee.Type == FeeType.Bps && fee.Fee > caps.MaxFeeBps)
                return new Rejection(Errors.FeeTooHigh, $"Fee '{fee.Partner}' is {fee.Fee} bps; the platform allows at most {caps.MaxFeeBps} bps.")
                    .With("maximum", caps.MaxFeeBps);
            if (Money.SignificantScale(fee.Fee) > Money.UsdcDecimals)
                return new Rejection(Errors.InvalidFee, $"Fee '{fee.Partner}' has more than {Money.UsdcDecimals} decimal places.");
        }
        return null;
    }

    /// <summary>
    /// The fees for one trade. FLAT is charged as is; BPS is charged on the notional the allocated collateral
    /// would open (allocated × leverage). Together they never take more than <see cref="FeeCaps.MaxFeeShareBps"/>
    /// of <paramref name="allocatedUsdc"/>: above it every fee is scaled down in proportion. Amounts are floored
    /// to USDC's 6 decimals, so a fee never takes a base unit more than the schedule says.
    /// </summary>
    public static IReadOnlyList<FeeCharge> ChargesFor(IReadOnlyList<AgentFee> fees, decimal allocatedUsdc, decimal leverage, FeeCaps caps)
    {
        var amounts = fees.Select(fee => fee.Type switch
        {
            FeeType.Flat => Money.FloorUsdc(fee.Fee),
            FeeType.Bps => Money.FloorUsdc(allocatedUsdc * leverage * fee.Fee / MaxBps),
            _ => throw new ArgumentOutOfRangeException(nameof(fees)),
        }).ToArray();
        var total = amounts.Sum();
        var cap = Money.FloorUsdc(allocatedUsdc * caps.MaxFeeShareBps / MaxBps);
        var charges = new List<FeeCharge>(fees.Count);
        for (var i = 0; i < fees.Count; i++)
        {
            var amount = total > cap ? Money.FloorUsdc(amounts[i] * cap / total) : amounts[i];
            if (amount > 0) charges.Add(new FeeCharge(fees[i].Partner, fees[i].FeeAddress, amount));
        }
        return charges;
    }
}
