using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>The product as a new user runs it: the gateway process with no configuration at all, killed and started again.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SingleNodeRestartTests
{
    [Fact]
    public async Task With_no_configuration_the_gateway_writes_a_private_admin_key_and_keeps_its_data_across_a_kill()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-gateway-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var account = TestData.NewAddress();
        var agentId = Guid.NewGuid().ToString();
        var keyFile = Path.Combine(workDir, "data", "admin.key");
        string adminKey;

        await using (var gateway = await Gateways.StartAsync(new Dictionary<string, string>(), workingDirectory: workDir))
        {
            adminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(workDir, "data")));
            Assert.Contains(keyFile, gateway.Process.Output, StringComparison.Ordinal);
            using var http = gateway.Client(adminKey);
            await http.PostAsync("/agent/register", new { agentId, name = "Persistent" }).OkAsync();
            await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "77.5" }).OkAsync();
            await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
            gateway.Process.Kill(); // no graceful shutdown
        }

        await using (var gateway = await Gateways.StartAsync(new Dictionary<string, string>(), workingDirectory: workDir))
        {
            Assert.Equal(adminKey, (await File.ReadAllTextAsync(keyFile)).Trim());
            using var http = gateway.Client(adminKey);
            var view = await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
            Assert.Equal(77.5m, view["freeUsdc"]!.GetValue<decimal>());
            var subscribers = await http.GetJsonAsync($"/api/v1/agents/{agentId}/subscribers").OkAsync();
            Assert.Equal(account, subscribers["subscribers"]![0]!.GetValue<string>());
        }
        Directory.Delete(workDir, recursive: true);
    }
}
