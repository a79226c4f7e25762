using System.Globalization;
using System.Numerics;

namespace AgentDesk.Domain.Intents;

/// <summary>A typed-data member description, as in <c>eth_signTypedData_v4</c> JSON.</summary>
public sealed record TypedDataMember(string Name, string Type);

/// <summary>The EIP-712 domain as JSON clients expect it (chainId as a number).</summary>
public sealed record TypedDataDomain(string Name, string Version, long ChainId, string VerifyingContract);

/// <summary>
/// The full typed-data document for one intent — what a quote returns and what ethers, viem or
/// MetaMask sign. uint256 values are decimal strings (they exceed JSON's safe integers); smaller
/// integers are numbers; bytes32 is 0x hex.
/// </summary>
public sealed record TypedDataTemplate(
    IReadOnlyDictionary<string, IReadOnlyList<TypedDataMember>> Types,
    string PrimaryType,
    TypedDataDomain Domain,
    IReadOnlyDictionary<string, object> Message)
{
    public static TypedDataTemplate For(Eip712Domain domain, ISignedIntent intent) => new(
        new Dictionary<string, IReadOnlyList<TypedDataMember>>
        {
            ["EIP712Domain"] =
            [
                new("name", "string"), new("version", "string"), new("chainId", "uint256"), new("verifyingContract", "address"),
            ],
            [intent.PrimaryType] = intent.Fields.Select(f => new TypedDataMember(f.Name, f.Type)).ToArray(),
        },
        intent.PrimaryType,
        new TypedDataDomain(domain.Name, domain.Version, (long)domain.ChainId, domain.VerifyingContract),
        intent.Fields.ToDictionary(f => f.Name, f => JsonValue(f)));

    private static object JsonValue(IntentField field) => field.Value switch
    {
        byte[] bytes => Hex.Encode(bytes),
        BigInteger big => big.ToString(CultureInfo.InvariantCulture),
        ushort or byte or int => Convert.ToInt32(field.Value, CultureInfo.InvariantCulture),
        _ => field.Value,
    };
}
