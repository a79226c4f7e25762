using System.Globalization;
using System.Numerics;
using System.Text;
using Nethereum.Util;

namespace AgentDesk.Domain.Intents;

/// <summary>One member of a typed-data struct: its name, its Solidity type and its value.</summary>
public sealed record IntentField(string Name, string Type, object Value);

/// <summary>
/// EIP-712 encoding for the flat structs AgentDesk signs (uint*, int*, address, bytes32, string members).
/// This is the fast path's own encoder; the tests check it against Nethereum and ethers on random inputs.
/// </summary>
public static class Eip712Encoding
{
    public static byte[] Keccak(ReadOnlySpan<byte> data) => Sha3Keccack.Current.CalculateHash(data.ToArray());

    public static string TypeString(string primaryType, IReadOnlyList<IntentField> fields) =>
        $"{primaryType}({string.Join(",", fields.Select(f => $"{f.Type} {f.Name}"))})";

    public static byte[] HashStruct(string typeString, IReadOnlyList<IntentField> fields)
    {
        var buffer = new byte[32 * (fields.Count + 1)];
        Keccak(Encoding.UTF8.GetBytes(typeString)).CopyTo(buffer, 0);
        for (var i = 0; i < fields.Count; i++)
            EncodeValue(fields[i], buffer.AsSpan(32 * (i + 1), 32));
        return Keccak(buffer);
    }

    /// <summary>keccak256(0x19 0x01 ‖ domainSeparator ‖ structHash): the digest that is signed.</summary>
    public static byte[] Digest(ReadOnlySpan<byte> domainSeparator, ReadOnlySpan<byte> structHash)
    {
        Span<byte> buffer = stackalloc byte[66];
        buffer[0] = 0x19;
        buffer[1] = 0x01;
        domainSeparator.CopyTo(buffer[2..]);
        structHash.CopyTo(buffer[34..]);
        return Keccak(buffer);
    }

    private static void EncodeValue(IntentField field, Span<byte> slot)
    {
        slot.Clear();
        switch (field.Type)
        {
            case "string":
                Keccak(Encoding.UTF8.GetBytes((string)field.Value)).CopyTo(slot);
                break;
            case "bytes32":
                var bytes = (byte[])field.Value;
                if (bytes.Length != 32) throw new ArgumentException($"{field.Name} must be 32 bytes.");
                bytes.CopyTo(slot);
                break;
            case "address":
                var address = Hex.Decode((string)field.Value);
                if (address.Length != 20) throw new ArgumentException($"{field.Name} must be a 20-byte address.");
                address.CopyTo(slot[12..]);
                break;
            default:
                WriteInteger(field, ToBigInteger(field.Value), slot);
                break;
        }
    }

    private static void WriteInteger(IntentField field, BigInteger value, Span<byte> slot)
    {
        var signed = field.Type.StartsWith("int", StringComparison.Ordinal);
        var bits = int.Parse(field.Type.AsSpan(signed ? 3 : 4), CultureInfo.InvariantCulture);
        var min = signed ? -(BigInteger.One << (bits - 1)) : BigInteger.Zero;
        var max = signed ? (BigInteger.One << (bits - 1)) - 1 : (BigInteger.One << bits) - 1;
        if (value < min || value > max) throw new ArgumentOutOfRangeException(field.Name, $"{value} does not fit {field.Type}.");
        // Two's complement over 256 bits: negative values are sign-extended with 0xFF.
        if (value.Sign < 0) slot.Fill(0xFF);
        var raw = value.ToByteArray(isUnsigned: false, isBigEndian: true);
        if (raw.Length > 32) raw = raw[^32..];
        raw.CopyTo(slot[(32 - raw.Length)..]);
    }

    public static BigInteger ToBigInteger(object value) => value switch
    {
        BigInteger b => b,
        int i => i,
        long l => l,
        ushort u => u,
        byte b8 => b8,
        uint u32 => u32,
        ulong u64 => u64,
        _ => throw new ArgumentException($"Not an integer: {value.GetType().Name}"),
    };
}

/// <summary>0x-prefixed hex, lower case.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> bytes) => "0x" + Convert.ToHexStringLower(bytes);

    public static byte[] Decode(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex[2..] : hex;
        return Convert.FromHexString(digits);
    }

    public static bool TryDecode(string? hex, int expectedLength, out byte[] bytes)
    {
        bytes = [];
        if (hex is null || !hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || hex.Length != 2 + expectedLength * 2) return false;
        try
        {
            bytes = Convert.FromHexString(hex.AsSpan(2));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
