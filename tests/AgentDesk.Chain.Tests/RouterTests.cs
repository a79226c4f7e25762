using System.Numerics;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Venues.Evm;
using AgentDesk.Venues.Evm.Abi;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;

namespace AgentDesk.Chain.Tests;

/// <summary>
/// The chain's own checks, without the gateway: OpenZeppelin's EIP-712 verifier in the TradeRouter agrees with the gateway's
/// digest for every intent type, and an intent sent straight to the router reverts on-chain when it is forged, replayed,
/// expired or for a token outside the vault's allowlist.
/// </summary>
[Collection(ChainCollection.Name)]
public sealed class RouterTests(ChainFixture chain)
{
    private Eip712Domain Domain => new(Eip712Domain.DefaultName, Eip712Domain.DefaultVersion, Testing.Anvil.ChainId, chain.Deployment.Router);

    [Fact]
    public async Task The_routers_digest_views_equal_the_gateways_digest_for_every_intent_type()
    {
        var verifier = new FastIntentVerifier(Domain);
        var random = new Random(9);
        var router = chain.Deployment.Router;
        Assert.Equal(Domain.Separator().ToHex(true), (await chain.Chain.QueryValueAsync<DomainSeparatorFunction, byte[]>(router, new DomainSeparatorFunction())).ToHex(true));

        for (var i = 0; i < 12; i++)
        {
            var (agentId, vault, token) = (Uint(random, 128), Address(random), Address(random));
            var (amount, minOut, slippage) = (Edge(random, i), Edge(random, i + 1), (ushort)(i == 0 ? ushort.MaxValue : random.Next(0, 10_001)));
            var (deadline, nonce) = (Uint(random, 40), Edge(random, i + 2));
            var exits = Ladder(random);
            var exitsHash = ExitsHash.Compute(exits);
            Assert.Equal(exitsHash.ToHex(true), (await chain.Chain.QueryValueAsync<HashExitsFunction, byte[]>(router, new HashExitsFunction
            {
                Rules = exits.Select(r => new ExitRuleStruct { TriggerType = (byte)r.TriggerType, TriggerBps = r.TriggerBps, ExitBps = (ushort)r.ExitBps }).ToList(),
            })).ToHex(true));

            var open = new OpenPositionIntent(agentId, vault, token, amount, minOut, slippage, exitsHash, deadline, nonce);
            Assert.Equal(verifier.Digest(open).ToHex(true), await DigestAsync(new DigestOpenPositionFunction
            {
                Intent = new OpenPositionStruct
                {
                    AgentId = agentId, Vault = vault, Token = token, UsdcAmount = amount, MinTokenOut = minOut, MaxSlippageBps = slippage, ExitsHash = exitsHash,
                    Deadline = deadline, Nonce = nonce,
                },
            }));
            var add = new AddToPositionIntent(agentId, vault, token, amount, minOut, slippage, deadline, nonce);
            Assert.Equal(verifier.Digest(add).ToHex(true), await DigestAsync(new DigestAddToPositionFunction
            {
                Intent = new AddToPositionStruct
                {
                    AgentId = agentId, Vault = vault, Token = token, UsdcAmount = amount, MinTokenOut = minOut, MaxSlippageBps = slippage, Deadline = deadline, Nonce = nonce,
                },
            }));
            var reduce = new ReducePositionIntent(agentId, vault, token, amount, minOut, slippage, deadline, nonce);
            Assert.Equal(verifier.Digest(reduce).ToHex(true), await DigestAsync(new DigestReducePositionFunction
            {
                Intent = new ReducePositionStruct
                {
                    AgentId = agentId, Vault = vault, Token = token, TokenAmount = amount, MinUsdcOut = minOut, MaxSlippageBps = slippage, Deadline = deadline, Nonce = nonce,
                },
            }));
            var ladder = new UpdateExitLadderIntent(agentId, vault, token, exitsHash, deadline, nonce);
            Assert.Equal(verifier.Digest(ladder).ToHex(true), await DigestAsync(new DigestUpdateExitLadderFunction
            {
                Intent = new UpdateExitLadderStruct { AgentId = agentId, Vault = vault, Token = token, ExitsHash = exitsHash, Deadline = deadline, Nonce = nonce },
            }));
        }
    }

    [Fact]
    public async Task An_intent_sent_straight_to_the_router_reverts_when_forged_replayed_expired_or_outside_the_allowlist()
    {
        var agent = Guid.NewGuid();
        var agentId = AgentIds.ToUint256(agent);
        var (agentKey, agentAddress) = Testing.TestData.NewKey();
        using var executor = chain.Sender(ExecutorKey.Read(chain.ExecutorKeyFile));
        await chain.CallAsync(chain.Admin, chain.Deployment.Router, new SetAgentSignerFunction { AgentId = agentId, Signer = agentAddress });
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        OpenPositionIntent Open(string token, long deadline, long nonce) =>
            new(agentId, chain.Vault, token, 100_000_000, 0, 100, ExitsHash.Compute([]), deadline, nonce);
        var nvda = chain.Token("NVDA");
        await chain.SetPriceAsync("NVDA", 130m);
        var vaultBefore = await chain.TokenBalanceAsync("NVDA", chain.Vault);

        // forged: signed by another key
        var (forger, _) = Testing.TestData.NewKey();
        var valid = Open(nvda, now + 600, 0);
        Assert.Equal("InvalidSignature", await RevertsAsync(executor, valid, NethereumIntentSignatures.Sign(Domain, valid, forger)));
        // expired
        var expired = Open(nvda, now - 60, 0);
        Assert.Equal("DeadlineExpired", await RevertsAsync(executor, expired, NethereumIntentSignatures.Sign(Domain, expired, agentKey)));
        // a token listed on the chain but outside the vault's allowlist
        var outside = Open(chain.Token("TSLA"), now + 600, 0);
        Assert.Equal("TokenNotAllowed", await RevertsAsync(executor, outside, NethereumIntentSignatures.Sign(Domain, outside, agentKey)));
        Assert.Equal(0, (int)await chain.NonceOfAgentAsync(agent)); // reverts consume nothing
        Assert.Equal(vaultBefore, await chain.TokenBalanceAsync("NVDA", chain.Vault));

        // the valid intent executes once; the same signed intent again is a replay
        var signature = NethereumIntentSignatures.Sign(Domain, valid, agentKey);
        var receipt = await executor.SendAndWaitAsync(chain.Deployment.Router, Call(valid, signature), 600_000);
        Assert.Equal(1, (int)receipt.Status!.Value);
        Assert.Equal(1, (int)await chain.NonceOfAgentAsync(agent));
        var bought = await chain.TokenBalanceAsync("NVDA", chain.Vault) - vaultBefore;
        Assert.True(bought > 0);
        Assert.Equal("NonceMismatch", await RevertsAsync(executor, valid, signature));
        Assert.Equal(1, (int)await chain.NonceOfAgentAsync(agent));
        Assert.Equal(bought, await chain.TokenBalanceAsync("NVDA", chain.Vault) - vaultBefore);
    }

    /// <summary>Sends the intent as a real transaction (no estimate first), requires it to revert on-chain, and names the error.</summary>
    private async Task<string?> RevertsAsync(ExecutorRelayer executor, OpenPositionIntent intent, string signature)
    {
        var data = Call(intent, signature);
        var receipt = await executor.SendAndWaitAsync(chain.Deployment.Router, data, 600_000);
        Assert.Equal(0, (int)receipt.Status!.Value);
        try
        {
            await chain.Chain.EstimateGasAsync(executor.Address, chain.Deployment.Router, data);
        }
        catch (Exception e) when (ChainErrors.RevertData(e) is { } revert)
        {
            return ChainErrors.Name(revert);
        }
        return null;
    }

    private static byte[] Call(OpenPositionIntent intent, string signature) => new OpenPositionFunction
    {
        Intent = new OpenPositionStruct
        {
            AgentId = intent.AgentId, Vault = intent.Vault, Token = intent.Token, UsdcAmount = intent.UsdcAmount, MinTokenOut = intent.MinTokenOut,
            MaxSlippageBps = intent.MaxSlippageBps, ExitsHash = intent.ExitsHash, Deadline = intent.Deadline, Nonce = intent.Nonce,
        },
        Signature = signature.HexToByteArray(),
    }.GetCallData();

    private async Task<string> DigestAsync<TFunction>(TFunction function) where TFunction : FunctionMessage, new() =>
        (await chain.Chain.QueryValueAsync<TFunction, byte[]>(chain.Deployment.Router, function)).ToHex(true);

    private static BigInteger Uint(Random random, int bits)
    {
        var bytes = new byte[bits / 8];
        random.NextBytes(bytes);
        return new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
    }

    /// <summary>Amounts across their range, with the edges (0 and 2^256 − 1) included.</summary>
    private static BigInteger Edge(Random random, int i) => (i % 4) switch
    {
        0 => BigInteger.Zero,
        1 => BigInteger.Pow(2, 256) - 1,
        _ => Uint(random, 8 * random.Next(1, 33)),
    };

    private static string Address(Random random) => "0x" + Convert.ToHexStringLower(Uint(random, 160).ToByteArray(isUnsigned: true, isBigEndian: true)).PadLeft(40, '0');

    private static List<ExitRule> Ladder(Random random) => Enumerable.Range(0, random.Next(0, 4))
        .Select(_ => random.Next(2) == 0
            ? new ExitRule(ExitTriggerType.StopLoss, -random.Next(1, 10_000), random.Next(1, 10_001))
            : new ExitRule(ExitTriggerType.TakeProfit, random.Next(1, 100_000), random.Next(1, 10_001)))
        .ToList();
}
