using System.Numerics;
using Nethereum.ABI.EIP712;
using Nethereum.Signer;
using Nethereum.Signer.EIP712;
using Secp256k1Net;
using NethereumDomain = Nethereum.ABI.EIP712.Domain;

namespace AgentDesk.Domain.Intents;

/// <summary>
/// The one spelling of a 65-byte signature: lower-case hex with v as 27 or 28 (the form a contract's ecrecover takes).
/// Signatures are compared as text (a retry is the same signed intent, a refusal is recorded once), so two spellings of one
/// signature must not count as two.
/// </summary>
public static class CanonicalSignature
{
    /// <summary>The canonical spelling; anything that is not 65 bytes of 0x hex is returned as it is, for the checks to refuse.</summary>
    public static string Of(string signature)
    {
        if (!Hex.TryDecode(signature, 65, out var bytes)) return signature;
        if (bytes[64] is 0 or 1) bytes[64] += 27;
        return Hex.Encode(bytes);
    }
}

/// <summary>
/// Signing and verification with Nethereum's EIP-712 implementation: the reference the fast path is
/// checked against, and the signer tests and tools use.
/// </summary>
public static class NethereumIntentSignatures
{
    public static TypedData<NethereumDomain> ToTypedData(Eip712Domain domain, ISignedIntent intent) => new()
    {
        Domain = new NethereumDomain
        {
            Name = domain.Name,
            Version = domain.Version,
            ChainId = domain.ChainId,
            VerifyingContract = domain.VerifyingContract,
        },
        PrimaryType = intent.PrimaryType,
        Types = new Dictionary<string, MemberDescription[]>
        {
            ["EIP712Domain"] =
            [
                new() { Name = "name", Type = "string" },
                new() { Name = "version", Type = "string" },
                new() { Name = "chainId", Type = "uint256" },
                new() { Name = "verifyingContract", Type = "address" },
            ],
            [intent.PrimaryType] = intent.Fields.Select(f => new MemberDescription { Name = f.Name, Type = f.Type }).ToArray(),
        },
        Message = intent.Fields.Select(f => new MemberValue
        {
            TypeName = f.Type,
            Value = f.Value is ushort or byte or int ? Eip712Encoding.ToBigInteger(f.Value) : f.Value,
        }).ToArray(),
    };

    /// <summary>Signs with a hex private key; returns the 65-byte r‖s‖v signature as 0x hex (v = 27/28).</summary>
    public static string Sign(Eip712Domain domain, ISignedIntent intent, string privateKeyHex) =>
        Eip712TypedDataSigner.Current.SignTypedDataV4(ToTypedData(domain, intent), new EthECKey(privateKeyHex));

    /// <summary>Recovers the signer's address; null when the signature cannot be parsed or recovered.</summary>
    public static string? Recover(Eip712Domain domain, ISignedIntent intent, string signature)
    {
        try
        {
            return Eip712TypedDataSigner.Current.RecoverFromSignatureV4(ToTypedData(domain, intent), signature);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// The fast verification path: the domain separator is hashed once, each intent's digest is computed by
/// <see cref="Eip712Encoding"/>, and the public key is recovered by native libsecp256k1. High-s
/// (malleable) signatures are refused, as EIP-2 and ethers do.
/// </summary>
public sealed class FastIntentVerifier(Eip712Domain domain)
{
    // secp256k1 group order / 2: signatures with s above it are the malleable twin of a low-s one.
    private static readonly BigInteger HalfOrder =
        BigInteger.Parse("7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0", System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture);

    private readonly byte[] _domainSeparator = domain.Separator();

    public Eip712Domain Domain { get; } = domain;

    public byte[] Digest(ISignedIntent intent) => Eip712Encoding.Digest(_domainSeparator, intent.StructHash());

    public string? Recover(ISignedIntent intent, string signature) =>
        Hex.TryDecode(signature, 65, out var bytes) ? RecoverFromDigest(Digest(intent), bytes) : null;

    /// <summary>True when <paramref name="signature"/> over <paramref name="intent"/> was made by <paramref name="signerAddress"/>.</summary>
    public bool IsSignedBy(ISignedIntent intent, string signature, string signerAddress) =>
        EthAddress.AreEqual(Recover(intent, signature), signerAddress);

    public static string? RecoverFromDigest(ReadOnlySpan<byte> digest, ReadOnlySpan<byte> signature65)
    {
        if (signature65.Length != 65 || digest.Length != 32) return null;
        var v = signature65[64];
        var recoveryId = v >= 27 ? v - 27 : v;
        if (recoveryId is not (0 or 1)) return null;
        var s = new BigInteger(signature65.Slice(32, 32), isUnsigned: true, isBigEndian: true);
        if (s.IsZero || s > HalfOrder) return null;
        try
        {
            var publicKey = Secp256k1.RecoverPublicKey(signature65[..64], (byte)recoveryId, digest, compressed: false);
            return publicKey is { Length: 65 } ? EthAddress.FromPublicKey(publicKey) : null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }
}
