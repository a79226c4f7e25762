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
    /// token carries is refused rather than rounded: the user signed that exact number.
    /// </summary>
    public static Outcome<BigInteger> ToBaseUnits(decimal amount, int decimals, string field)
    {
        if (amount < 0) return new Rejection("invalid_amount", $"{field} must not be negative.");
        if (SignificantScale(amount) > decimals)
            return new Rejection("invalid_amount", $"{field} has more than {decimals} decimal places.");
        var scaled = amount;
        var result = BigInteger.Zero;
        // decimal holds 28 digits; scale in steps to stay inside its range for 18-decimal tokens.
        var integral = decimal.Truncate(scaled);
        var fraction = scaled - integral;
        result = new BigInteger(integral) * BigInteger.Pow(10, decimals);
        if (fraction != 0)
        {
            var fractionDigits = fraction.ToString(CultureInfo.InvariantCulture)[2..].PadRight(decimals, '0');
            result += BigInteger.Parse(fractionDigits, CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>Converts base units back to a human amount (exact for up to 28 significant digits).</summary>
    public static decimal FromBaseUnits(BigInteger units, int decimals)
    {
        var divisor = BigInteger.Pow(10, decimals);
        var integral = BigInteger.DivRem(units, divisor, out var remainder);
        return (decimal)integral + (decimal)remainder / (decimal)divisor;
    }

    /// <summary>Parses a decimal string in human units ("100", "0.5"); no exponents, no thousands separators.</summary>
    public static Outcome<decimal> ParseAmount(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
            return new Rejection("invalid_amount", $"{field} is required.");
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return new Rejection("invalid_amount", $"{field} must be a non-negative decimal string such as \"100\" or \"0.5\".");
        return value;
    }
}
