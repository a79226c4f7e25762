using System.Numerics;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Tests.Intents;

public class IntentRulesTests
{
    [Fact]
    public void Only_the_current_nonce_is_accepted_and_the_rejection_says_which()
    {
        Assert.Null(IntentRules.CheckNonce(3, 3));
        var rejection = IntentRules.CheckNonce(3, 2)!;
        Assert.Equal("nonce_mismatch", rejection.Code.Code);
        Assert.Equal("3", rejection.Details!["expectedNonce"]);
        Assert.Equal("nonce_mismatch", IntentRules.CheckNonce(3, 4)!.Code.Code);
    }

    [Fact]
    public void A_deadline_must_be_in_the_future()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
        Assert.Null(IntentRules.CheckDeadline(1_800_000_001, now));
        Assert.Equal("deadline_expired", IntentRules.CheckDeadline(1_800_000_000, now)!.Code.Code);
        Assert.Equal("deadline_expired", IntentRules.CheckDeadline(0, now)!.Code.Code);
    }

    [Fact]
    public void Agent_uuid_is_read_big_endian_as_uint256()
    {
        var id = Guid.Parse("337c2c59-ae4a-477c-9771-e66de0fdd669");
        Assert.Equal(BigInteger.Parse("0337c2c59ae4a477c9771e66de0fdd669", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture), AgentIds.ToUint256(id));
        Assert.Equal(BigInteger.One, AgentIds.ToUint256(Guid.Parse("00000000-0000-0000-0000-000000000001")));
    }
}

public class MoneyTests
{
    [Fact]
    public void Human_amounts_convert_to_base_units_exactly()
    {
        Assert.Equal(new BigInteger(100_000_000), Money.ToBaseUnits(100m, 6, "usdcAmount").Unwrap());
        Assert.Equal(new BigInteger(500_000), Money.ToBaseUnits(0.5m, 6, "usdcAmount").Unwrap());
        Assert.Equal(BigInteger.Parse("1500000000000000000", System.Globalization.CultureInfo.InvariantCulture), Money.ToBaseUnits(1.5m, 18, "tokenAmount").Unwrap());
        Assert.Equal(BigInteger.Parse("123456789012345678", System.Globalization.CultureInfo.InvariantCulture), Money.ToBaseUnits(0.123456789012345678m, 18, "t").Unwrap());
    }

    [Fact]
    public void More_precision_than_the_token_carries_is_refused_not_rounded()
    {
        Assert.Equal("invalid_amount", Money.ToBaseUnits(1.0000001m, 6, "usdcAmount").Rejection!.Code.Code);
        Assert.True(Money.ToBaseUnits(1.000000m, 6, "usdcAmount").IsSuccess); // trailing zeros carry no value
    }

    [Theory]
    [InlineData("1.90000000", 6, "1900000")] // was 91,000,000: the padded fraction read as 90,000,000 units
    [InlineData("5.9000000000", 6, "5900000")]
    [InlineData("0.5000000000000000000", 18, "500000000000000000")] // 19 places for an 18-decimal token
    [InlineData("10.500000", 6, "10500000")]
    [InlineData("79228162514.264337593543950335", 18, "79228162514264337593543950335")]
    public void Trailing_zeros_carry_no_value_in_base_units(string amount, int decimals, string units)
    {
        var parsed = Money.ParseAmount(amount, "amount").Unwrap();
        Assert.Equal(BigInteger.Parse(units, System.Globalization.CultureInfo.InvariantCulture), Money.ToBaseUnits(parsed, decimals, "amount").Unwrap());
        // What arithmetic leaves behind counts the same: 0.95 × 2.0000000 is 1.900000000.
        Assert.Equal(new BigInteger(1_900_000), Money.ToBaseUnits(0.95m * 2.0000000m, 6, "amount").Unwrap());
    }

    [Fact]
    public void Base_units_convert_back()
    {
        Assert.Equal(1.5m, Money.FromBaseUnits(1_500_000, 6));
        Assert.Equal("1.5", Money.FromBaseUnits(1_500_000, 6).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0.000001m, Money.FromBaseUnits(1, 6));
        Assert.Equal(0m, Money.FromBaseUnits(0, 18));
    }

    [Fact]
    public void Base_units_beyond_a_decimals_digits_lose_their_smallest_units_and_never_round_up()
    {
        // 80,000,000,000.999999999999999999 tokens of 18 decimals: 29 digits, one more than a decimal holds here.
        var units = BigInteger.Parse("80000000000999999999999999999", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(80_000_000_000.99999999999999999m, Money.FromBaseUnits(units, 18));
        Assert.True(Money.ToBaseUnits(Money.FromBaseUnits(units, 18), 18, "amount").Unwrap() <= units);
    }

    [Fact]
    public void A_floored_quotient_is_exact_where_a_decimal_division_rounds_its_last_digit_up()
    {
        // 1,000 ÷ 0.00000011 = 9,090,909,090.909090909090909090|909…: the decimal division ends …091.
        Assert.Equal(9_090_909_090.909090909090909091m, Money.RoundDown(1_000m / 0.00000011m, 18));
        Assert.Equal(9_090_909_090.909090909090909090m, Money.FloorDivide(1_000m, 0.00000011m, 18));
        Assert.Equal(15.00750375m, Money.FloorDivide(150m, 9.995m, 8));
        Assert.Equal(20m, Money.FloorDivide(150m, 7.5m, 8));
        // The product is exact too: 1,000 × 1.0000000000000000000000000001 has 32 significant digits.
        Assert.Equal(9_090_909_090.909090909090909091m, Money.FloorMultiplyDivide(1_000m, 1.0000000000000000000000000001m, 0.00000011m, 18));
        // Below zero, digits a decimal cannot hold round down too: -15 × 10^-30 is -0.000…0001 at 28 places, not 0.
        Assert.Equal(-0.0000000000000000000000000001m, Money.FromBaseUnits(-15, 30));
    }

    [Theory]
    [InlineData("100")]
    [InlineData("0.5")]
    [InlineData("1.90000000000000000000000000000000")] // trailing zeros carry no digits
    [InlineData("7.")]
    public void Decimal_strings_parse(string text) => Assert.True(Money.ParseAmount(text, "x").IsSuccess);

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("1,000")]
    [InlineData("abc")]
    [InlineData("100.0000000000000000000000000001")] // 31 significant digits: a decimal would hold 100
    [InlineData("12345678901234567890123456789.5")] // 30 significant digits
    public void Malformed_amounts_are_refused(string text) => Assert.Equal("invalid_amount", Money.ParseAmount(text, "x").Rejection!.Code.Code);
}
