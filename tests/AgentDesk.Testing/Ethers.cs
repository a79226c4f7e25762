using System.Text.Json.Nodes;

namespace AgentDesk.Testing;

/// <summary>Signs EIP-712 typed data with ethers 6 under node, as an agent's client would (tests/interop/eip712.mjs).</summary>
public static class Ethers
{
    public const string Script = "tests/interop/eip712.mjs";

    /// <summary>Sends requests to the interop script and returns its answers, one per request.</summary>
    public static async Task<JsonArray> CallAsync(JsonArray requests, TimeSpan? timeout = null)
    {
        var output = await ChildProcess.NodeAsync(Script, requests.ToJsonString(), timeout);
        return JsonNode.Parse(output)!.AsArray();
    }

    /// <summary>Signs a quote's <c>typedData</c> and returns the signature.</summary>
    public static async Task<string> SignAsync(JsonNode typedData, string privateKey)
    {
        var request = typedData.DeepClone().AsObject();
        request["op"] = "sign";
        request["privateKey"] = privateKey;
        var answer = (await CallAsync(new JsonArray(request)))[0]!;
        Assert.Null(answer["error"]);
        return answer["signature"]!.GetValue<string>();
    }
}
