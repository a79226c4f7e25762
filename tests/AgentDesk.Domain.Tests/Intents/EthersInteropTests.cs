using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
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
    public void Ethers_signatures_of_all_four_intent_types_recover_to_the_signer_in_csharp()
    {
        var (key, address) = IntentSamples.NewKey();
        var intents = IntentSamples.Intent.Array[40].Single()
            .Concat(IntentSamples.Intent.Array[4].Single()) // at least one of each kind below
            .ToList();
        intents.AddRange(OneOfEach());

        var answers = Ethers(intents.Select(i => Request("sign", i, new() { ["privateKey"] = key })));
        for (var i = 0; i < intents.Count; i++)
        {
            Assert.True(EthAddress.AreEqual(address, answers[i]!["address"]!.GetValue<string>()));
            var signature = answers[i]!["signature"]!.GetValue<string>();
            Assert.True(_verifier.IsSignedBy(intents[i], signature, address), $"{intents[i].PrimaryType} signed by ethers did not verify");
            Assert.True(EthAddress.AreEqual(address, NethereumIntentSignatures.Recover(IntentSamples.Domain, intents[i], signature)));
        }
    }

    [Fact]
    public void Csharp_signatures_of_all_four_intent_types_verify_in_ethers()
    {
        var (key, address) = IntentSamples.NewKey();
        var intents = OneOfEach().ToList();
        var answers = Ethers(intents.Select(i => Request("recover", i, new()
        {
            ["signature"] = NethereumIntentSignatures.Sign(IntentSamples.Domain, i, key),
        })));
        Assert.All(answers, a => Assert.True(EthAddress.AreEqual(address, a!["address"]!.GetValue<string>())));
    }

    [Fact]
    public void Ethers_rejects_what_csharp_rejects_wrong_key_tampered_field_other_chain_other_contract()
    {
        var (key, address) = IntentSamples.NewKey();
        var intent = IntentSamples.SeedOpen(3);
        var signature = Ethers([Request("sign", intent, new() { ["privateKey"] = key })])[0]!["signature"]!.GetValue<string>();
        var (otherKey, _) = IntentSamples.NewKey();
        var otherSignature = Ethers([Request("sign", intent, new() { ["privateKey"] = otherKey })])[0]!["signature"]!.GetValue<string>();

        Assert.True(_verifier.IsSignedBy(intent, signature, address));
        Assert.False(_verifier.IsSignedBy(intent, otherSignature, address));
        Assert.False(_verifier.IsSignedBy(intent with { MaxSlippageBps = 101 }, signature, address));
        Assert.False(new FastIntentVerifier(IntentSamples.Domain with { ChainId = 8453 }).IsSignedBy(intent, signature, address));
        Assert.False(new FastIntentVerifier(IntentSamples.Domain with { VerifyingContract = "0x" + new string('a', 40) }).IsSignedBy(intent, signature, address));
    }

    [Fact]
    public void Exits_hash_equals_how_ethers_hashes_an_ExitRule_array()
    {
        var ladders = IntentSamples.Ladder.Array[30].Single();
        var answers = Ethers(ladders.Select(l => new JsonObject
        {
            ["op"] = "exitsHash",
            ["exits"] = new JsonArray(l.Select(r => (JsonNode)new JsonObject
            {
                ["triggerType"] = (int)r.TriggerType, ["triggerBps"] = r.TriggerBps, ["exitBps"] = r.ExitBps,
            }).ToArray()),
        }));
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

    private static JsonObject Request(string op, ISignedIntent intent, JsonObject extra)
    {
        var request = JsonSerializer.SerializeToNode(TypedDataTemplate.For(IntentSamples.Domain, intent), Json)!.AsObject();
        request["op"] = op;
        foreach (var (k, v) in extra) request[k] = v?.DeepClone();
        return request;
    }

    private static JsonArray Ethers(IEnumerable<JsonObject> requests)
    {
        var root = Support.TestEnvironment.RepoRoot();
        var script = Path.Combine(root, "tests", "interop", "eip712.mjs");
        Assert.True(Directory.Exists(Path.Combine(root, "tests", "interop", "node_modules", "ethers")),
            "ethers is not installed: run ./test.sh (or npm ci in tests/interop).");
        var start = new ProcessStartInfo("node", [script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        node.StandardInput.Write(new JsonArray(requests.Select(r => (JsonNode)r).ToArray()).ToJsonString());
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEnd();
        var error = node.StandardError.ReadToEnd();
        Assert.True(node.WaitForExit(60_000), "node did not finish");
        Assert.True(node.ExitCode == 0, $"node failed: {error}");
        var answers = JsonNode.Parse(output)!.AsArray();
        Assert.All(answers, a => Assert.Null(a!["error"]));
        return answers;
    }

}
