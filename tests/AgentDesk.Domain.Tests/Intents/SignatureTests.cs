using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using CsCheck;

namespace AgentDesk.Domain.Tests.Intents;

public class SignatureTests
{
    private readonly FastIntentVerifier _verifier = new(IntentSamples.Domain);

    [Fact]
    public void OpenPosition_type_string_is_exactly_the_seeds()
    {
        Assert.Equal(
            "OpenPosition(uint256 agentId,address vault,address token,uint256 usdcAmount,uint256 minTokenOut,uint16 maxSlippageBps,bytes32 exitsHash,uint256 deadline,uint256 nonce)",
            IntentSamples.SeedOpen(0).TypeString());
    }

    [Fact]
    public void The_project_intent_type_strings_are_as_designed()
    {
        var add = new AddToPositionIntent(1, "0x" + new string('1', 40), "0x" + new string('2', 40), 1, 0, 0, 1, 0);
        var reduce = new ReducePositionIntent(1, "0x" + new string('1', 40), "0x" + new string('2', 40), 1, 0, 0, 1, 0);
        var ladder = new UpdateExitLadderIntent(1, "0x" + new string('1', 40), "0x" + new string('2', 40), new byte[32], 1, 0);
        Assert.Equal("AddToPosition(uint256 agentId,address vault,address token,uint256 usdcAmount,uint256 minTokenOut,uint16 maxSlippageBps,uint256 deadline,uint256 nonce)", add.TypeString());
        Assert.Equal("ReducePosition(uint256 agentId,address vault,address token,uint256 tokenAmount,uint256 minUsdcOut,uint16 maxSlippageBps,uint256 deadline,uint256 nonce)", reduce.TypeString());
        Assert.Equal("UpdateExitLadder(uint256 agentId,address vault,address token,bytes32 exitsHash,uint256 deadline,uint256 nonce)", ladder.TypeString());
    }

    [Fact]
    public void Every_spelling_of_a_signature_has_one_canonical_form_that_still_recovers_the_signer()
    {
        var (key, address) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(0);
        var signature = NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, key); // lower case, v = 27/28
        var v = Convert.ToByte(signature[^2..], 16);
        var zeroBasedV = signature[..^2] + (v - 27).ToString("x2", System.Globalization.CultureInfo.InvariantCulture);
        var upper = "0x" + signature[2..].ToUpperInvariant();

        Assert.Equal(signature, CanonicalSignature.Of(signature));
        Assert.Equal(signature, CanonicalSignature.Of(zeroBasedV));
        Assert.Equal(signature, CanonicalSignature.Of(upper));
        Assert.Equal(signature, CanonicalSignature.Of("0X" + zeroBasedV[2..].ToUpperInvariant()));
        Assert.True(_verifier.IsSignedBy(intent, zeroBasedV, address)); // both v forms are the same signature
        Assert.Equal("0x12", CanonicalSignature.Of("0x12")); // not a signature: left for the checks to refuse
    }

    [Fact]
    public void A_signature_made_with_nethereum_is_recovered_by_both_paths()
    {
        var (key, address) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(0);
        var signature = NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, key);
        Assert.True(EthAddress.AreEqual(address, NethereumIntentSignatures.Recover(IntentSamples.Domain, intent, signature)));
        Assert.True(_verifier.IsSignedBy(intent, signature, address));
    }

    [Fact]
    public void Fast_digest_equals_nethereums_encoding_on_random_intents()
    {
        Gen.Select(IntentSamples.Intent, Gen.ULong[1, 1_000_000])
            .Sample((intent, chainId) =>
            {
                var domain = IntentSamples.Domain with { ChainId = chainId };
                var nethereum = Nethereum.Util.Sha3Keccack.Current.CalculateHash(
                    Nethereum.Signer.EIP712.Eip712TypedDataSigner.Current.EncodeTypedData(NethereumIntentSignatures.ToTypedData(domain, intent)));
                return nethereum.SequenceEqual(intent.Digest(domain));
            }, iter: 500);
    }

    [Fact]
    public void Sign_then_recover_round_trips_and_both_paths_agree_on_random_inputs()
    {
        Gen.Select(IntentSamples.Intent, Gen.Int[0, 3]).Sample((intent, _) =>
        {
            var (key, address) = IntentSamples.NewKey();
            var signature = NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, key);
            var fast = _verifier.Recover(intent, signature);
            var reference = NethereumIntentSignatures.Recover(IntentSamples.Domain, intent, signature);
            return EthAddress.AreEqual(fast, address) && EthAddress.AreEqual(reference, address);
        }, iter: 150);
    }

    [Fact]
    public void A_wrong_key_a_tampered_field_another_chain_or_contract_are_rejected()
    {
        var (key, address) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(7);
        var signature = NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, key);
        Assert.True(_verifier.IsSignedBy(intent, signature, address));

        var (otherKey, _) = IntentSamples.NewKey();
        Assert.False(_verifier.IsSignedBy(intent, NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, otherKey), address));
        Assert.False(_verifier.IsSignedBy(intent with { UsdcAmount = intent.UsdcAmount + 1 }, signature, address));
        Assert.False(_verifier.IsSignedBy(intent with { Nonce = 8 }, signature, address));
        Assert.False(_verifier.IsSignedBy(intent with { ExitsHash = ExitsHash.Compute([new ExitRule(ExitTriggerType.StopLoss, -900, 10_000)]) }, signature, address));
        Assert.False(new FastIntentVerifier(IntentSamples.Domain with { ChainId = 1 }).IsSignedBy(intent, signature, address));
        Assert.False(new FastIntentVerifier(IntentSamples.Domain with { VerifyingContract = "0x" + new string('9', 40) }).IsSignedBy(intent, signature, address));
        Assert.False(new FastIntentVerifier(IntentSamples.Domain with { Name = "Another Router" }).IsSignedBy(intent, signature, address));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x")]
    [InlineData("0x1234")]
    [InlineData("not hex at all")]
    public void Malformed_signatures_recover_nothing(string signature)
    {
        Assert.Null(_verifier.Recover(IntentSamples.SeedOpen(0), signature));
    }

    [Fact]
    public void Garbage_65_byte_signatures_and_high_s_twins_recover_nothing()
    {
        var (key, address) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(0);
        var signature = Hex.Decode(NethereumIntentSignatures.Sign(IntentSamples.Domain, intent, key));

        // The malleable twin: s' = n − s with the recovery id flipped recovers the same key; it is refused.
        var n = System.Numerics.BigInteger.Parse("0FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);
        var s = new System.Numerics.BigInteger(signature.AsSpan(32, 32), isUnsigned: true, isBigEndian: true);
        var twin = (byte[])signature.Clone();
        (n - s).ToByteArray(isUnsigned: true, isBigEndian: true).CopyTo(twin.AsSpan(32 + 32 - (n - s).GetByteCount(isUnsigned: true)));
        twin[64] = (byte)(signature[64] == 27 ? 28 : 27);
        Assert.Null(_verifier.Recover(intent, Hex.Encode(twin)));

        var zeros = new byte[65];
        zeros[64] = 27;
        Assert.Null(_verifier.Recover(intent, Hex.Encode(zeros)));
        var badV = (byte[])signature.Clone();
        badV[64] = 35;
        Assert.Null(_verifier.Recover(intent, Hex.Encode(badV)));
        Assert.True(_verifier.IsSignedBy(intent, Hex.Encode(signature), address));
    }

    [Fact]
    public void Exits_hash_depends_on_every_field_and_on_order()
    {
        ExitRule a = new(ExitTriggerType.TakeProfit, 1000, 5000), b = new(ExitTriggerType.StopLoss, -1000, 10_000);
        var hash = ExitsHash.Compute([a, b]);
        Assert.NotEqual(hash, ExitsHash.Compute([b, a]));
        Assert.NotEqual(hash, ExitsHash.Compute([a with { ExitBps = 5001 }, b]));
        Assert.NotEqual(hash, ExitsHash.Compute([a, b with { TriggerBps = -999 }]));
        Assert.NotEqual(hash, ExitsHash.Compute([a with { TriggerType = ExitTriggerType.StopLoss, TriggerBps = -1000 }, b]));
        Assert.Equal(hash, ExitsHash.Compute([a, b]));
    }
}
