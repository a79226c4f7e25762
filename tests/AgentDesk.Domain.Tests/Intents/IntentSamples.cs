using System.Numerics;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using CsCheck;

namespace AgentDesk.Domain.Tests.Intents;

/// <summary>Random keys, domains and intents for signature tests.</summary>
public static class IntentSamples
{
    public static readonly Eip712Domain Domain = new(Eip712Domain.DefaultName, "1", 42161, "0x5fbdb2315678afecb367f032d93f642f64180aa3");

    public static (string PrivateKey, string Address) NewKey() => AgentDesk.Testing.TestData.NewKey();

    public static readonly Gen<BigInteger> Uint256 = Gen.Byte.Array[32].Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));
    public static readonly Gen<BigInteger> Uint128 = Gen.Byte.Array[16].Select(b => new BigInteger(b, isUnsigned: true, isBigEndian: true));
    public static readonly Gen<string> Address = Gen.Byte.Array[20].Select(b => Hex.Encode(b));
    public static readonly Gen<byte[]> Bytes32 = Gen.Byte.Array[32];

    public static readonly Gen<ExitRule> Rule = Gen.OneOf(
        Gen.Int[-10_000, -1].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.StopLoss, t, e)),
        Gen.Int[1, 100_000].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.TakeProfit, t, e)));

    public static readonly Gen<ExitRule[]> Ladder = Rule.Array[1, 5];

    public static readonly Gen<ISignedIntent> Intent = Gen.OneOf<ISignedIntent>(
        Gen.Select(Uint128, Address, Address, Uint256, Uint256, Gen.UShort, Ladder, Gen.Select(Uint256, Uint256))
            .Select(t => (ISignedIntent)new OpenPositionIntent(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, ExitsHash.Compute(t.Item7), t.Item8.Item1, t.Item8.Item2)),
        Gen.Select(Uint128, Address, Address, Uint256, Uint256, Gen.UShort, Uint256, Uint256)
            .Select(t => (ISignedIntent)new AddToPositionIntent(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8)),
        Gen.Select(Uint128, Address, Address, Uint256, Uint256, Gen.UShort, Uint256, Uint256)
            .Select(t => (ISignedIntent)new ReducePositionIntent(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7, t.Item8)),
        Gen.Select(Uint128, Address, Address, Bytes32, Uint256, Uint256)
            .Select(t => (ISignedIntent)new UpdateExitLadderIntent(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6)));

    public static OpenPositionIntent SeedOpen(BigInteger nonce) => new(
        AgentIds.ToUint256(Guid.Parse("337c2c59-ae4a-477c-9771-e66de0fdd669")),
        "0x1111111111111111111111111111111111111111",
        "0x2222222222222222222222222222222222222222",
        100_000_000, 0, 100,
        ExitsHash.Compute([new ExitRule(ExitTriggerType.StopLoss, -500, 10_000)]),
        1_735_689_600, nonce);
}
