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

    [Fact]
    public void Base_units_convert_back()
    {
        Assert.Equal(1.5m, Money.FromBaseUnits(1_500_000, 6));
        Assert.Equal(0.000001m, Money.FromBaseUnits(1, 6));
    }

    [Theory]
    [InlineData("100")]
    [InlineData("0.5")]
    public void Decimal_strings_parse(string text) => Assert.True(Money.ParseAmount(text, "x").IsSuccess);

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1e3")]
    [InlineData("1,000")]
    [InlineData("abc")]
    public void Malformed_amounts_are_refused(string text) => Assert.Equal("invalid_amount", Money.ParseAmount(text, "x").Rejection!.Code.Code);
}
