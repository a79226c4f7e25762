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
        string adminKey, operatorKey;

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
            operatorKey = (await http.PostAsync("/api/v1/api-keys", new { role = "operator", organization = "Stored" }).OkAsync())["apiKey"]!.GetValue<string>();
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

            // The issued key survived the kill, and the database files hold its SHA-256 hash, never the key itself.
            using var asOperator = gateway.Client(operatorKey);
            await asOperator.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found");
            var stored = string.Concat(Directory.GetFiles(Path.Combine(workDir, "data"), "agentdesk.db*")
                .Select(f => System.Text.Encoding.UTF8.GetString(ReadShared(f))));
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(operatorKey)));
            Assert.Contains(hash, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(operatorKey, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(adminKey, stored, StringComparison.Ordinal);
        }
        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>Reads a file the running gateway keeps open (SQLite's database and write-ahead log).</summary>
    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
