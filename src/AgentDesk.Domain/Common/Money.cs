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
    /// token carries is refused rather than rounded: the user signed that exact number.
    /// </summary>
    public static Outcome<BigInteger> ToBaseUnits(decimal amount, int decimals, string field)
    {
        if (amount < 0) return new Rejection(Errors.InvalidAmount, $"{field} must not be negative.");
        if (SignificantScale(amount) > decimals)
            return new Rejection(Errors.InvalidAmount, $"{field} has more than {decimals} decimal places.");
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
            return new Rejection(Errors.InvalidAmount, $"{field} is required.");
        if (text.Length > MaxAmountLength)
            return new Rejection(Errors.InvalidAmount, $"{field} is at most {MaxAmountLength} characters.");
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            return new Rejection(Errors.InvalidAmount, $"{field} must be a non-negative decimal string such as \"100\" or \"0.5\".");
        return value;
    }
}
