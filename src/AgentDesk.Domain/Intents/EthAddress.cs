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
