using System.Numerics;
using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Intents;

/// <summary>A struct an agent signs with EIP-712. The field list is the single definition of its type.</summary>
public interface ISignedIntent
{
    string PrimaryType { get; }
    IReadOnlyList<IntentField> Fields { get; }
    BigInteger AgentId { get; }
    BigInteger Deadline { get; }
    BigInteger Nonce { get; }
}

/// <summary><c>OpenPosition</c>, the intent type AlphaGrid clients sign (docs/intents.md).</summary>
public sealed record OpenPositionIntent(
    BigInteger AgentId, string Vault, string Token, BigInteger UsdcAmount, BigInteger MinTokenOut,
    ushort MaxSlippageBps, byte[] ExitsHash, BigInteger Deadline, BigInteger Nonce) : ISignedIntent
{
    public string PrimaryType => "OpenPosition";

    public IReadOnlyList<IntentField> Fields =>
    [
        new("agentId", "uint256", AgentId), new("vault", "address", Vault), new("token", "address", Token),
        new("usdcAmount", "uint256", UsdcAmount), new("minTokenOut", "uint256", MinTokenOut),
        new("maxSlippageBps", "uint16", MaxSlippageBps), new("exitsHash", "bytes32", ExitsHash),
        new("deadline", "uint256", Deadline), new("nonce", "uint256", Nonce),
    ];
}

public sealed record AddToPositionIntent(
    BigInteger AgentId, string Vault, string Token, BigInteger UsdcAmount, BigInteger MinTokenOut,
    ushort MaxSlippageBps, BigInteger Deadline, BigInteger Nonce) : ISignedIntent
{
    public string PrimaryType => "AddToPosition";

    public IReadOnlyList<IntentField> Fields =>
    [
        new("agentId", "uint256", AgentId), new("vault", "address", Vault), new("token", "address", Token),
        new("usdcAmount", "uint256", UsdcAmount), new("minTokenOut", "uint256", MinTokenOut),
        new("maxSlippageBps", "uint16", MaxSlippageBps), new("deadline", "uint256", Deadline), new("nonce", "uint256", Nonce),
    ];
}

/// <summary>Sells <see cref="TokenAmount"/>; the position's full size closes it.</summary>
public sealed record ReducePositionIntent(
    BigInteger AgentId, string Vault, string Token, BigInteger TokenAmount, BigInteger MinUsdcOut,
    ushort MaxSlippageBps, BigInteger Deadline, BigInteger Nonce) : ISignedIntent
{
    public string PrimaryType => "ReducePosition";

    public IReadOnlyList<IntentField> Fields =>
    [
        new("agentId", "uint256", AgentId), new("vault", "address", Vault), new("token", "address", Token),
        new("tokenAmount", "uint256", TokenAmount), new("minUsdcOut", "uint256", MinUsdcOut),
        new("maxSlippageBps", "uint16", MaxSlippageBps), new("deadline", "uint256", Deadline), new("nonce", "uint256", Nonce),
    ];
}

public sealed record UpdateExitLadderIntent(
    BigInteger AgentId, string Vault, string Token, byte[] ExitsHash, BigInteger Deadline, BigInteger Nonce) : ISignedIntent
{
    public string PrimaryType => "UpdateExitLadder";

    public IReadOnlyList<IntentField> Fields =>
    [
        new("agentId", "uint256", AgentId), new("vault", "address", Vault), new("token", "address", Token),
        new("exitsHash", "bytes32", ExitsHash), new("deadline", "uint256", Deadline), new("nonce", "uint256", Nonce),
    ];
}

/// <summary>The current signer hands the agent to a new one (docs/intents.md, "Signer rotation").</summary>
public sealed record RotateSignerIntent(BigInteger AgentId, string NewSigner, BigInteger Deadline, BigInteger Nonce) : ISignedIntent
{
    public string PrimaryType => "RotateSigner";

    public IReadOnlyList<IntentField> Fields =>
    [
        new("agentId", "uint256", AgentId), new("newSigner", "address", NewSigner), new("deadline", "uint256", Deadline), new("nonce", "uint256", Nonce),
    ];
}

public static class IntentTypes
{
    // A primary type always has the same members, so its type string is built once.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> TypeStrings = new(StringComparer.Ordinal);

    public static string TypeString(this ISignedIntent intent) =>
        TypeStrings.GetOrAdd(intent.PrimaryType, static (_, i) => Eip712Encoding.TypeString(i.PrimaryType, i.Fields), intent);

    public static byte[] StructHash(this ISignedIntent intent) => Eip712Encoding.HashStruct(intent.TypeString(), intent.Fields);

    public static byte[] Digest(this ISignedIntent intent, Eip712Domain domain) => Eip712Encoding.Digest(domain.Separator(), intent.StructHash());
}

/// <summary><c>exitsHash</c>: how EIP-712 hashes an <c>ExitRule[]</c> — keccak256 of the concatenated struct hashes.</summary>
public static class ExitsHash
{
    public const string ExitRuleType = "ExitRule(uint8 triggerType,int32 triggerBps,uint16 exitBps)";

    public static byte[] Compute(IReadOnlyList<ExitRule> rules)
    {
        var buffer = new byte[32 * rules.Count];
        for (var i = 0; i < rules.Count; i++)
        {
            var rule = rules[i];
            Eip712Encoding.HashStruct(ExitRuleType,
            [
                new IntentField("triggerType", "uint8", (int)rule.TriggerType),
                new IntentField("triggerBps", "int32", rule.TriggerBps),
                new IntentField("exitBps", "uint16", rule.ExitBps),
            ]).CopyTo(buffer, 32 * i);
        }
        return Eip712Encoding.Keccak(buffer);
    }
}

/// <summary>Agent ids are UUIDs; on chain they are the UUID's 16 bytes read as a big-endian uint256.</summary>
public static class AgentIds
{
    public static BigInteger ToUint256(Guid agentId) =>
        new(agentId.ToByteArray(bigEndian: true), isUnsigned: true, isBigEndian: true);
}
