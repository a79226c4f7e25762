using System.Diagnostics;
using AgentDesk.Domain.Tests.Support;

namespace AgentDesk.Gateway.Tests;

/// <summary>The product as a new user runs it: the gateway process with no configuration but a port, twice.</summary>
public sealed class SingleNodeRestartTests
{
    [Fact]
    public async Task With_no_configuration_the_gateway_writes_an_admin_key_and_keeps_its_data_across_restarts()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-gateway-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var port = TestEnvironment.FreePort();
        var account = Api.NewAddress();
        var agentId = Guid.NewGuid().ToString();
        string adminKey;

        using (var gateway = Start(workDir, port))
        {
            using var anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForHealthAsync(anonymous, gateway);
            adminKey = (await File.ReadAllTextAsync(Path.Combine(workDir, "data", "admin.key"))).Trim();
            using var http = Client(port, adminKey);
            await http.PostAsync("/agent/register", new { agentId, name = "Persistent" }).OkAsync();
            await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "77.5" }).OkAsync();
            await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
            gateway.Kill(entireProcessTree: true); // no graceful shutdown
            await gateway.WaitForExitAsync();
        }

        using (var gateway = Start(workDir, port))
        {
            using var anonymous = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitForHealthAsync(anonymous, gateway);
            Assert.Equal(adminKey, (await File.ReadAllTextAsync(Path.Combine(workDir, "data", "admin.key"))).Trim());
            using var http = Client(port, adminKey);
            var view = await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
            Assert.Equal(77.5m, view["freeUsdc"]!.GetValue<decimal>());
            var subscribers = await http.GetJsonAsync($"/api/v1/agents/{agentId}/subscribers").OkAsync();
            Assert.Equal(account, subscribers["subscribers"]![0]!.GetValue<string>());
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
        Directory.Delete(workDir, recursive: true);
    }

    private static HttpClient Client(int port, string key)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        client.DefaultRequestHeaders.Add("x-api-key", key);
        return client;
    }

    private static Process Start(string workDir, int port)
    {
        var dll = TestEnvironment.BuiltProgram("AgentDesk.Gateway");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"])
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Only what the test machine needs: free silo ports (11111/30000 may be taken by other tests) and a quiet console.
        start.Environment["AgentDesk__Cluster__SiloPort"] = TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AgentDesk__Cluster__GatewayPort"] = TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AgentDesk__Telemetry__Console"] = "false";
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitForHealthAsync(HttpClient http, Process process)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(process.HasExited, "the gateway exited");
            try
            {
                if ((await http.GetAsync("/health")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        throw new TimeoutException("the gateway never became healthy");
    }
}
