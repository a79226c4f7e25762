using System.Diagnostics;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Tests.Support;

namespace AgentDesk.Gateway.Tests;

/// <summary>Signs a quote's typed data with ethers 6 under node, as an agent's client would.</summary>
public static class EthersSigner
{
    public static async Task<string> SignAsync(JsonNode typedData, string privateKey)
    {
        var request = typedData.DeepClone().AsObject();
        request["op"] = "sign";
        request["privateKey"] = privateKey;
        var start = new ProcessStartInfo("node", [Path.Combine(TestEnvironment.RepoRoot(), "tests", "interop", "eip712.mjs")])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(new JsonArray(request).ToJsonString());
        node.StandardInput.Close();
        var output = await node.StandardOutput.ReadToEndAsync();
        var error = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, error);
        var answer = JsonNode.Parse(output)![0]!;
        Assert.Null(answer["error"]);
        return answer["signature"]!.GetValue<string>();
    }
}
