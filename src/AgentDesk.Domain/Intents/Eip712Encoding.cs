using System.Collections.Concurrent;
using System.Globalization;
using System.Buffers;
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

    // Type hashes are constants of the type; hashing the type string on every verification was the
    // largest cost of the fast path.
    private static readonly ConcurrentDictionary<string, byte[]> TypeHashes = new(StringComparer.Ordinal);

    public static byte[] TypeHash(string typeString) =>
        TypeHashes.GetOrAdd(typeString, static t => Keccak(Encoding.UTF8.GetBytes(t)));

    public static byte[] HashStruct(string typeString, IReadOnlyList<IntentField> fields)
    {
        Span<byte> buffer = stackalloc byte[32 * (fields.Count + 1)];
        TypeHash(typeString).CopyTo(buffer);
        for (var i = 0; i < fields.Count; i++)
            EncodeValue(fields[i], buffer.Slice(32 * (i + 1), 32));
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
                var address = (string)field.Value;
                if (address.Length != 42 || Convert.FromHexString(address.AsSpan(2), slot[12..], out _, out var written) != OperationStatus.Done || written != 20)
                    throw new ArgumentException($"{field.Name} must be a 20-byte 0x address.");
                break;
            default:
                WriteInteger(field, ToBigInteger(field.Value), slot);
                break;
        }
    }

    private static void WriteInteger(IntentField field, BigInteger value, Span<byte> slot)
    {
        var (signed, bits) = IntegerType(field.Type);
        var fits = signed
            ? value >= -(BigInteger.One << (bits - 1)) && value < BigInteger.One << (bits - 1)
            : value.Sign >= 0 && value.GetBitLength() <= bits;
        if (!fits) throw new ArgumentOutOfRangeException(field.Name, $"{value} does not fit {field.Type}.");
        // Two's complement over 256 bits: negative values are sign-extended with 0xFF.
        if (value.Sign < 0) slot.Fill(0xFF);
        var length = value.GetByteCount(isUnsigned: value.Sign >= 0);
        value.TryWriteBytes(slot[(32 - length)..], out _, isUnsigned: value.Sign >= 0, isBigEndian: true);
    }

    private static (bool Signed, int Bits) IntegerType(string type) => type switch
    {
        "uint256" => (false, 256),
        "uint16" => (false, 16),
        "uint8" => (false, 8),
        "int32" => (true, 32),
        _ when type.StartsWith("uint", StringComparison.Ordinal) => (false, int.Parse(type.AsSpan(4), CultureInfo.InvariantCulture)),
        _ when type.StartsWith("int", StringComparison.Ordinal) => (true, int.Parse(type.AsSpan(3), CultureInfo.InvariantCulture)),
        _ => throw new ArgumentException($"Unsupported EIP-712 type {type}."),
    };

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
