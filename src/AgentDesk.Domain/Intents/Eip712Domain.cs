using System.Numerics;

namespace AgentDesk.Domain.Intents;

/// <summary>
/// The EIP-712 domain intents are signed under (docs/intents.md). The name is configurable; AlphaGrid clients use
/// "AlphaGrid TradeRouter". <see cref="VerifyingContract"/> is the TradeRouter address.
/// </summary>
public sealed record Eip712Domain(string Name, string Version, BigInteger ChainId, string VerifyingContract)
{
    public const string DefaultName = "AlphaGrid TradeRouter";
    public const string DefaultVersion = "1";

    public const string TypeString = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    /// <summary>hashStruct(EIP712Domain): computed once per domain and reused for every digest.</summary>
    public byte[] Separator() => Eip712Encoding.HashStruct(TypeString,
    [
        new IntentField("name", "string", Name),
        new IntentField("version", "string", Version),
        new IntentField("chainId", "uint256", ChainId),
        new IntentField("verifyingContract", "address", VerifyingContract),
    ]);
}
