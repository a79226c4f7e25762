namespace AgentDesk.Domain.Intents;

/// <summary>
/// Ethereum addresses: exactly 0x followed by 40 hex digits, nothing before or after. All-lower or all-upper
/// hex is accepted as is; mixed case must carry a valid EIP-55 checksum (a mistyped mixed-case address is
/// refused rather than silently becoming another account). Compared case-insensitively, stored lower case.
/// </summary>
public static class EthAddress
{
    public const int Length = 42;

    private static readonly System.Buffers.SearchValues<char> LowerHexLetters = System.Buffers.SearchValues.Create("abcdef");
    private static readonly System.Buffers.SearchValues<char> UpperHexLetters = System.Buffers.SearchValues.Create("ABCDEF");

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? address)
    {
        if (address is not { Length: Length } || address[0] != '0' || address[1] is not ('x' or 'X')) return false;
        var digits = address.AsSpan(2);
        foreach (var c in digits)
            if (!char.IsAsciiHexDigit(c)) return false;
        var hasLower = digits.ContainsAny(LowerHexLetters);
        var hasUpper = digits.ContainsAny(UpperHexLetters);
        return !(hasLower && hasUpper) || HasValidChecksum(digits);
    }

    /// <summary>EIP-55: a letter is upper case exactly when the matching nibble of keccak256(lower-case hex) is 8 or more.</summary>
    public static string ToChecksum(string address)
    {
        var lower = address[2..].ToLowerInvariant();
        var hash = Eip712Encoding.Keccak(System.Text.Encoding.ASCII.GetBytes(lower));
        var chars = lower.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            var nibble = (hash[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0F;
            if (char.IsAsciiLetter(chars[i]) && nibble >= 8) chars[i] = char.ToUpperInvariant(chars[i]);
        }
        return "0x" + new string(chars);
    }

    private static bool HasValidChecksum(ReadOnlySpan<char> digits) => ToChecksum("0x" + digits.ToString()).AsSpan(2).SequenceEqual(digits);

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
        var invalid = new Common.Rejection(Common.Errors.InvalidPublicKey, "publicKey must be a secp256k1 public key in hex (33, 64 or 65 bytes).");
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
