using System.Numerics;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Vaults;

/// <summary>
/// The proof that an organisation may trade a vault contract's capital (docs/domain.md, "Vaults"): an EIP-712 signature,
/// by an account holding the contract's admin role, over the organisation and the vault id it is created under. The chain's
/// router lets the platform trade any vault for any agent; only this binding says whose agents may, so a vault address
/// that anyone can read is not enough to create a vault on it.
/// </summary>
/// <remarks>
/// The domain's verifying contract is the vault itself and the chain id is the venue's, so a claim says which contract on
/// which chain; naming the organisation means a claim shown to one organisation is worthless to another.
/// </remarks>
public sealed record VaultClaim(string Organization, string VaultId, string VaultAddress, BigInteger ChainId)
{
    public const string DomainName = "AgentDesk Vault";
    public const string DomainVersion = "1";
    public const string PrimaryType = "VaultClaim";

    public IReadOnlyList<IntentField> Fields => [new("organization", "string", Organization), new("vaultId", "string", VaultId)];

    public Eip712Domain Domain => new(DomainName, DomainVersion, ChainId, EthAddress.Normalize(VaultAddress));

    /// <summary>The digest the vault's admin signs.</summary>
    public byte[] Digest() =>
        Eip712Encoding.Digest(Domain.Separator(), Eip712Encoding.HashStruct(Eip712Encoding.TypeString(PrimaryType, Fields), Fields));

    /// <summary>Signs the claim with a hex private key, as a vault's admin does (the tests and tools use it; ethers' signTypedData gives the same).</summary>
    public string Sign(string privateKeyHex)
    {
        var signature = new Nethereum.Signer.EthECKey(privateKeyHex).SignAndCalculateV(Digest());
        return CanonicalSignature.Of(Nethereum.Signer.EthECDSASignature.CreateStringSignature(signature));
    }

    /// <summary>The account that signed <paramref name="signature"/> over this claim, or a refusal when it is not a signature.</summary>
    public Outcome<string> Signer(string? signature)
    {
        if (string.IsNullOrEmpty(signature))
            return new Rejection(Errors.InvalidSignature,
                "adminSignature is required on a chain: the EIP-712 VaultClaim signed by an admin of the vault contract (docs/venues.md).");
        return Hex.TryDecode(signature, 65, out var bytes) && FastIntentVerifier.RecoverFromDigest(Digest(), bytes) is { } signer
            ? signer
            : new Rejection(Errors.InvalidSignature, "adminSignature is not a signature of this vault claim (65 bytes of 0x hex, low s).");
    }
}
