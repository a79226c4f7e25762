using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Testing;
using CsCheck;

namespace AgentDesk.Domain.Tests.Intents;

/// <summary>
/// Signatures made by ethers 6 (run with node, as an agent's client would) verify in C#, and C#
/// signatures verify in ethers. Needs <c>npm ci</c> in tests/interop, which ./test.sh does.
/// </summary>
public class EthersInteropTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly FastIntentVerifier _verifier = new(IntentSamples.Domain);

    [Fact]
    public async Task Ethers_signatures_of_all_four_intent_types_recover_to_the_signer_in_csharp()
    {
        var (key, address) = IntentSamples.NewKey();
        var intents = IntentSamples.Intent.Array[40].Single()
            .Concat(IntentSamples.Intent.Array[4].Single()) // at least one of each kind below
            .ToList();
        intents.AddRange(OneOfEach());

        var answers = await EthersAsync(intents.Select(i => Request("sign", i, new() { ["privateKey"] = key })));
        for (var i = 0; i < intents.Count; i++)
        {
            Assert.True(EthAddress.AreEqual(address, answers[i]!["address"]!.GetValue<string>()));
            var signature = answers[i]!["signature"]!.GetValue<string>();
            Assert.True(_verifier.IsSignedBy(intents[i], signature, address), $"{intents[i].PrimaryType} signed by ethers did not verify");
            Assert.True(EthAddress.AreEqual(address, NethereumIntentSignatures.Recover(IntentSamples.Domain, intents[i], signature)));
        }
    }

    [Fact]
    public async Task Csharp_signatures_of_all_four_intent_types_verify_in_ethers()
    {
        var (key, address) = IntentSamples.NewKey();
        var intents = OneOfEach().ToList();
        var answers = await EthersAsync(intents.Select(i => Request("recover", i, new()
        {
            ["signature"] = NethereumIntentSignatures.Sign(IntentSamples.Domain, i, key),
        })));
        Assert.Equal(4, answers.Count);
        Assert.All(answers, a => Assert.True(EthAddress.AreEqual(address, a!["address"]!.GetValue<string>())));
    }

    [Fact]
    public async Task A_wrong_key_a_tampered_field_another_chain_or_contract_recovers_to_another_address_in_ethers_and_in_csharp()
    {
        var (key, address) = IntentSamples.NewKey();
        var (otherKey, _) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(3);
        var signature = (await EthersAsync([Request("sign", intent, new() { ["privateKey"] = key })]))[0]!["signature"]!.GetValue<string>();
        var otherSignature = (await EthersAsync([Request("sign", intent, new() { ["privateKey"] = otherKey })]))[0]!["signature"]!.GetValue<string>();

        // ethers recovers each variant to an address that is not the signer's…
        var variants = new (ISignedIntent Intent, Eip712Domain Domain, string Signature)[]
        {
            (intent, IntentSamples.Domain, otherSignature),
            (intent with { MaxSlippageBps = 101 }, IntentSamples.Domain, signature),
            (intent, IntentSamples.Domain with { ChainId = 8453 }, signature),
            (intent, IntentSamples.Domain with { VerifyingContract = "0x" + new string('a', 40) }, signature),
        };
        var recovered = await EthersAsync(variants.Select(v => Request("recover", v.Intent, new() { ["signature"] = v.Signature }, v.Domain)));
        Assert.Equal(variants.Length, recovered.Count);
        Assert.All(recovered, r => Assert.False(EthAddress.AreEqual(address, r!["address"]!.GetValue<string>())));
        // …and so does C#, while the untouched intent verifies in both.
        Assert.All(variants, v => Assert.False(new FastIntentVerifier(v.Domain).IsSignedBy(v.Intent, v.Signature, address)));
        Assert.True(_verifier.IsSignedBy(intent, signature, address));
        var untouched = await EthersAsync([Request("recover", intent, new() { ["signature"] = signature })]);
        Assert.True(EthAddress.AreEqual(address, untouched[0]!["address"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Exits_hash_equals_how_ethers_hashes_an_ExitRule_array()
    {
        var ladders = IntentSamples.Ladder.Array[30].Single();
        var answers = await EthersAsync(ladders.Select(l => new JsonObject
        {
            ["op"] = "exitsHash",
            ["exits"] = new JsonArray(l.Select(r => (JsonNode)new JsonObject
            {
                ["triggerType"] = (int)r.TriggerType, ["triggerBps"] = r.TriggerBps, ["exitBps"] = r.ExitBps,
            }).ToArray()),
        }));
        Assert.Equal(ladders.Length, answers.Count);
        for (var i = 0; i < ladders.Length; i++)
            Assert.Equal(answers[i]!["hash"]!.GetValue<string>(), Hex.Encode(ExitsHash.Compute(ladders[i])));
    }

    private static IEnumerable<ISignedIntent> OneOfEach()
    {
        var open = IntentSamples.SeedOpen(0);
        yield return open;
        yield return new AddToPositionIntent(open.AgentId, open.Vault, open.Token, 25_000_000, 1, 50, open.Deadline, 1);
        yield return new ReducePositionIntent(open.AgentId, open.Vault, open.Token, 500_000_000_000_000_000, 0, 75, open.Deadline, 2);
        yield return new UpdateExitLadderIntent(open.AgentId, open.Vault, open.Token,
            ExitsHash.Compute([new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)]), open.Deadline, 3);
    }

    private static JsonObject Request(string op, ISignedIntent intent, JsonObject extra, Eip712Domain? domain = null)
    {
        var request = JsonSerializer.SerializeToNode(TypedDataTemplate.For(domain ?? IntentSamples.Domain, intent), Json)!.AsObject();
        request["op"] = op;
        foreach (var (k, v) in extra) request[k] = v?.DeepClone();
        return request;
    }

    private static async Task<JsonArray> EthersAsync(IEnumerable<JsonObject> requests)
    {
        Assert.True(Directory.Exists(Path.Combine(TestEnvironment.RepoRoot(), "tests", "interop", "node_modules", "ethers")),
            "ethers is not installed: run ./test.sh (or npm ci in tests/interop).");
        var answers = await Ethers.CallAsync(new JsonArray(requests.Select(r => (JsonNode)r).ToArray()));
        Assert.All(answers, a => Assert.Null(a!["error"]));
        return answers;
    }
}
