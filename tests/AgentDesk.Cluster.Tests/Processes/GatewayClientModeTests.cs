using System.Diagnostics;
using System.Net.Http.Json;
using AgentDesk.Cluster.Tests.Postgres;
using AgentDesk.Domain.Tests.Support;

namespace AgentDesk.Cluster.Tests.Processes;

/// <summary>The production shape: a silo process on PostgreSQL and a gateway process that is only a cluster client.</summary>
public sealed class GatewayClientModeTests
{
    [Fact]
    public async Task A_gateway_in_cluster_client_mode_serves_the_api_from_silos_it_finds_in_postgres()
    {
        var clusterId = "gw-" + Guid.NewGuid().ToString("N")[..10];
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__Cluster__Mode"] = "Postgres",
            ["AgentDesk__Cluster__ConnectionString"] = PostgresCluster.ConnectionString,
            ["AgentDesk__Cluster__ClusterId"] = clusterId,
            ["AgentDesk__Cluster__ServiceId"] = clusterId,
        };
        await using var silo = SiloProcess.Start(environment, SiloProcess.FreePort(), SiloProcess.FreePort());
        await silo.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));

        var port = SiloProcess.FreePort();
        var dll = TestEnvironment.BuiltProgram("AgentDesk.Gateway");
        var start = new ProcessStartInfo("dotnet", [dll, "--urls", $"http://127.0.0.1:{port}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (k, v) in environment) start.Environment[k] = v;
        start.Environment["AgentDesk__Auth__AdminKey"] = "client-mode-key";
        start.Environment["AgentDesk__Telemetry__Console"] = "false";
        using var gateway = Process.Start(start)!;
        gateway.OutputDataReceived += (_, _) => { };
        gateway.ErrorDataReceived += (_, _) => { };
        gateway.BeginOutputReadLine();
        gateway.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            http.DefaultRequestHeaders.Add("x-api-key", "client-mode-key");
            await Eventually.WaitForAsync(async () =>
            {
                try { return (await http.GetAsync("/health")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, healthy => healthy, TimeSpan.FromSeconds(60), "the gateway to reach the cluster");

            var agentId = Guid.NewGuid();
            var registered = await http.PostAsJsonAsync("/agent/register", new { agentId, name = "Via client" });
            Assert.True(registered.IsSuccessStatusCode, await registered.Content.ReadAsStringAsync());
            var account = Scenario.NewAddress();
            Assert.True((await http.PostAsJsonAsync("/api/v1/accounts", new { smartAccount = account })).IsSuccessStatusCode);
            Assert.True((await http.PostAsJsonAsync($"/api/v1/accounts/{account}/deposits", new { amount = "12.5" })).IsSuccessStatusCode);
            var view = await http.GetFromJsonAsync<System.Text.Json.Nodes.JsonObject>($"/api/v1/accounts/{account}");
            Assert.Equal(12.5m, view!["freeUsdc"]!.GetValue<decimal>());
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }
}
