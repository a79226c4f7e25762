using System.Text;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Tests.Intents;

/// <summary>
/// Known answers from the EIP-712 specification's own example ("Ether Mail"): an independent check of the encoder the
/// fast verifier uses, not one derived from this code or from ethers.
/// </summary>
public class Eip712SpecificationVectors
{
    private static readonly Eip712Domain MailDomain = new("Ether Mail", "1", 1, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC");

    private const string PersonType = "Person(string name,address wallet)";
    private const string MailType = "Mail(Person from,Person to,string contents)" + PersonType;

    private static byte[] Person(string name, string wallet) =>
        Eip712Encoding.HashStruct(PersonType, [new IntentField("name", "string", name), new IntentField("wallet", "address", wallet)]);

    // A struct member is encoded as its own hashStruct, i.e. as a bytes32.
    private static byte[] Mail() => Eip712Encoding.HashStruct(MailType,
    [
        new IntentField("from", "bytes32", Person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
        new IntentField("to", "bytes32", Person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")),
        new IntentField("contents", "string", "Hello, Bob!"),
    ]);

    [Fact]
    public void The_domain_separator_struct_hash_and_digest_equal_the_specification()
    {
        Assert.Equal("0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f", Hex.Encode(MailDomain.Separator()));
        Assert.Equal("0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e", Hex.Encode(Mail()));
        Assert.Equal("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2",
            Hex.Encode(Eip712Encoding.Digest(MailDomain.Separator(), Mail())));
    }

    [Fact]
    public void The_specifications_signature_recovers_to_cows_address()
    {
        // The specification signs with the key keccak256("cow"); its address is Cow's wallet.
        var signature = Hex.Decode("0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
            + "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562" + "1c");
        var digest = Eip712Encoding.Digest(MailDomain.Separator(), Mail());
        Assert.Equal("0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826", FastIntentVerifier.RecoverFromDigest(digest, signature));
        var cow = new Nethereum.Signer.EthECKey(Eip712Encoding.Keccak(Encoding.UTF8.GetBytes("cow")), true);
        Assert.Equal("0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826", cow.GetPublicAddress().ToLowerInvariant());
    }
}
