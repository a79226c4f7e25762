using System.Text.RegularExpressions;

namespace AgentDesk.Domain.Intents;

/// <summary>Ethereum addresses: 0x followed by 40 hex digits, compared case-insensitively, stored lower case.</summary>
public static partial class EthAddress
{
    [GeneratedRegex("^0x[0-9a-fA-F]{40}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? address) => address is not null && Pattern().IsMatch(address);

    public static string Normalize(string address) => address.ToLowerInvariant();

    public static bool AreEqual(string? a, string? b) => a is not null && b is not null && string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public static string FromPublicKey(ReadOnlySpan<byte> uncompressed65)
    {
        var hash = Eip712Encoding.Keccak(uncompressed65[1..]);
        return Hex.Encode(hash.AsSpan(12));
    }
}

public static class PublicKeys
{
    /// <summary>
    /// The address of a secp256k1 public key given as hex: 65 bytes uncompressed (0x04…), 64 bytes without the
    /// prefix, or 33 bytes compressed (0x02/0x03…).
    /// </summary>
    public static Common.Outcome<string> ToAddress(string? hex)
    {
        var invalid = new Common.Rejection("invalid_public_key", "publicKey must be a secp256k1 public key in hex (33, 64 or 65 bytes).");
        if (hex is null) return invalid;
        byte[] bytes;
        try
        {
            bytes = Hex.Decode(hex);
        }
        catch (FormatException)
        {
            return invalid;
        }
        try
        {
            var uncompressed = bytes.Length switch
            {
                65 when bytes[0] == 0x04 => bytes,
                64 => [0x04, .. bytes],
                33 when bytes[0] is 0x02 or 0x03 => Secp256k1Net.Secp256k1.DecompressPublicKey(bytes),
                _ => null,
            };
            if (uncompressed is null || !Secp256k1Net.Secp256k1.IsValidPublicKey(uncompressed)) return invalid;
            return EthAddress.FromPublicKey(uncompressed);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return invalid;
        }
    }
}
