using System.Globalization;
using System.Numerics;

namespace AgentDesk.Domain.Common;

/// <summary>
/// Explicit rounding for money. Every amount that leaves the user's hands rounds down
/// (toward the user's safety); nothing here ever rounds up silently.
/// </summary>
public static class Money
{
    public const int UsdcDecimals = 6;
    public const decimal MinimumTradeUsdc = 5m;

    /// <summary>The largest single deposit the platform accepts.</summary>
    public const decimal MaxDepositUsdc = 1_000_000_000m;

    /// <summary>The largest balance an account may hold. With prices bounded too, every product AgentDesk computes fits a decimal.</summary>
    public const decimal MaxBalanceUsdc = 1_000_000_000_000m;

    /// <summary>Longest amount text accepted ("1000000000.000000" is 17 characters).</summary>
    public const int MaxAmountLength = 40;

    /// <summary>
    /// Runs money arithmetic that could overflow a decimal for extreme (but bounded) inputs, turning an
    /// overflow into a rejection instead of an exception: nothing is half-done, nothing answers 500.
    /// </summary>
    public static Outcome<T> Checked<T>(Func<Outcome<T>> compute, string what)
    {
        try
        {
            return compute();
        }
        catch (OverflowException)
        {
            return new Rejection(Errors.ArithmeticOverflow, $"{what} is outside the range AgentDesk computes with.");
        }
    }

    /// <summary>A deposit's own rules: positive, USDC's 6 decimals at most, within the per-deposit and balance bounds.</summary>
    public static Rejection? CheckDeposit(decimal amountUsdc, decimal balanceUsdc)
    {
        if (amountUsdc <= 0) return new Rejection(Errors.InvalidAmount, "A deposit must be positive.");
        if (SignificantScale(amountUsdc) > UsdcDecimals)
            return new Rejection(Errors.InvalidAmount, $"USDC has {UsdcDecimals} decimal places; the amount has more.");
        if (amountUsdc > MaxDepositUsdc)
            return new Rejection(Errors.AmountTooLarge, $"A deposit is at most {MaxDepositUsdc} USDC.").With("maximum", MaxDepositUsdc);
        if (balanceUsdc + amountUsdc > MaxBalanceUsdc)
            return new Rejection(Errors.AmountTooLarge, $"An account holds at most {MaxBalanceUsdc} USDC.").With("maximum", MaxBalanceUsdc);
        return null;
    }

    /// <summary>Truncates toward zero at <paramref name="decimals"/> places (a floor for the non-negative amounts we size).</summary>
    public static decimal RoundDown(decimal value, int decimals)
    {
        if (decimals is < 0 or > 28) throw new ArgumentOutOfRangeException(nameof(decimals));
        return Math.Round(value, decimals, MidpointRounding.ToZero);
    }

    public static decimal FloorCents(decimal value) => Math.Round(value, 2, MidpointRounding.ToNegativeInfinity);

    public static decimal FloorUsdc(decimal value) => Math.Round(value, UsdcDecimals, MidpointRounding.ToNegativeInfinity);

    /// <summary>Number of digits after the decimal point that carry value ("1.500" → 1).</summary>
    public static int SignificantScale(decimal value)
    {
        var normalized = value / 1.000000000000000000000000000000000m;
        return (decimal.GetBits(normalized)[3] >> 16) & 0xFF;
    }

    /// <summary>
    /// Converts a human amount to on-chain base units. An amount with more precision than the
    /// token carries is refused rather than rounded: the user signed that exact number. Trailing zeros carry no value,
    /// however many are written ("1.90000000" is 1.9).
    /// </summary>
    public static Outcome<BigInteger> ToBaseUnits(decimal amount, int decimals, string field)
    {
        if (amount < 0) return new Rejection(Errors.InvalidAmount, $"{field} must not be negative.");
        if (SignificantScale(amount) > decimals)
            return new Rejection(Errors.InvalidAmount, $"{field} has more than {decimals} decimal places.");
        // amount = mantissa / 10^scale exactly, with the trailing zeros gone, so scale ≤ decimals.
        var (mantissa, scale) = Exact(amount / 1.000000000000000000000000000000000m);
        return mantissa * BigInteger.Pow(10, decimals - scale);
    }

    /// <summary>
    /// Converts base units back to a human amount: exact when it fits a decimal's 28 to 29 significant digits; beyond
    /// that, the smallest units that do not fit are dropped, rounding down (toward negative infinity), never up.
    /// </summary>
    public static decimal FromBaseUnits(BigInteger units, int decimals)
    {
        var negative = units.Sign < 0;
        var magnitude = BigInteger.Abs(units);
        var scale = decimals;
        var dropped = false;
        while (scale > 28 || (magnitude > MaxMantissa && scale > 0))
        {
            magnitude = BigInteger.DivRem(magnitude, 10, out var digit);
            dropped |= !digit.IsZero;
            scale--;
        }
        if (negative && dropped) magnitude += 1; // below zero, dropping digits toward zero would round up
        // Still too large with no places left: as large as a decimal cannot hold, the conversion's own overflow.
        if (magnitude > MaxMantissa) throw new OverflowException($"{units} base units are beyond a decimal.");
        Span<byte> bytes = stackalloc byte[12];
        magnitude.TryWriteBytes(bytes, out _, isUnsigned: true);
        var value = new decimal(BitConverter.ToInt32(bytes[..4]), BitConverter.ToInt32(bytes[4..8]), BitConverter.ToInt32(bytes[8..]), negative, (byte)scale);
        return value / 1.000000000000000000000000000000000m; // without trailing zeros ("1.5", not "1.500000"), exactly
    }

    /// <summary>
    /// <paramref name="dividend"/> ÷ <paramref name="divisor"/>, floored at <paramref name="decimals"/> places exactly (see
    /// <see cref="FloorMultiplyDivide"/>).
    /// </summary>
    public static decimal FloorDivide(decimal dividend, decimal divisor, int decimals) => FloorMultiplyDivide(dividend, 1m, divisor, decimals);

    /// <summary>
    /// <paramref name="a"/> × <paramref name="b"/> ÷ <paramref name="divisor"/>, none negative and the divisor positive,
    /// floored at <paramref name="decimals"/> places (0 to 28) exactly. Decimal arithmetic keeps 28 to 29 significant
    /// digits and rounds the last to nearest, which a floor applied after cannot undo: a size of an 18-decimal token in the
    /// billions came out one smallest unit above what the collateral buys.
    /// </summary>
    public static decimal FloorMultiplyDivide(decimal a, decimal b, decimal divisor, int decimals)
    {
        if (a < 0 || b < 0 || divisor <= 0) throw new ArgumentOutOfRangeException(nameof(divisor), "The factors must not be negative and the divisor must be positive.");
        if (decimals is < 0 or > 28) throw new ArgumentOutOfRangeException(nameof(decimals));
        var (ma, sa) = Exact(a);
        var (mb, sb) = Exact(b);
        var (md, sd) = Exact(divisor);
        // (ma·mb / 10^(sa+sb)) ÷ (md / 10^sd) × 10^decimals, floored: the result in units of 10^-decimals.
        var units = BigInteger.Divide(ma * mb * BigInteger.Pow(10, sd + decimals), md * BigInteger.Pow(10, sa + sb));
        return FromBaseUnits(units, decimals);
    }

    private static readonly BigInteger MaxMantissa = (BigInteger.One << 96) - 1;

    /// <summary>A non-negative decimal as its integer mantissa and scale: the value is mantissa / 10^scale, exactly.</summary>
    private static (BigInteger Mantissa, int Scale) Exact(decimal value)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var mantissa = new BigInteger((uint)bits[0]) | (new BigInteger((uint)bits[1]) << 32) | (new BigInteger((uint)bits[2]) << 64);
        return (mantissa, (bits[3] >> 16) & 0xFF);
    }

    /// <summary>Parses a decimal string in human units ("100", "0.5"); no exponents, no thousands separators.</summary>
    public static Outcome<decimal> ParseAmount(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
            return new Rejection(Errors.InvalidAmount, $"{field} is required.");
        if (text.Length > MaxAmountLength)
            return new Rejection(Errors.InvalidAmount, $"{field} is at most {MaxAmountLength} characters.");
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return new Rejection(Errors.InvalidAmount, $"{field} must be a non-negative decimal string such as \"100\" or \"0.5\".");
        // A decimal holds 28 to 29 significant digits and rounds the rest away as it parses: an amount it cannot hold is
        // refused, never taken as a neighbouring one.
        var point = text.IndexOf('.', StringComparison.Ordinal);
        var writtenDecimals = point < 0 ? 0 : text.AsSpan(point + 1).TrimEnd('0').Length;
        if (SignificantScale(value) != writtenDecimals)
            return new Rejection(Errors.InvalidAmount, $"{field} has more significant digits than an amount can hold.");
        return value;
    }
}
