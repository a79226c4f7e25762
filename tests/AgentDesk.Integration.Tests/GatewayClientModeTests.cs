using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>The production shape: a silo process on PostgreSQL and a gateway process that is only a cluster client.</summary>
public sealed class GatewayClientModeTests
{
    [Fact]
    public async Task A_gateway_in_cluster_client_mode_serves_the_api_from_silos_it_finds_in_postgres()
    {
        var clusterId = Silos.NewClusterId("gw");
        var environment = Silos.PostgresCluster(clusterId);
        await using var silo = await Silos.StartAsync(environment);
        await using var gateway = await Gateways.StartAsync(environment, "client-mode-key-0123456789");

        using var http = gateway.Client("client-mode-key-0123456789");
        var agentId = Guid.NewGuid();
        await http.PostAsync("/agent/register", new { agentId, name = "Via client" }).OkAsync();
        var account = TestData.NewAddress();
        await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "12.5" }).OkAsync();
        var view = await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
        Assert.Equal(12.5m, view["freeUsdc"]!.GetValue<decimal>());
        Assert.Equal("healthy", (await http.GetJsonAsync("/health").OkAsync())["status"]!.GetValue<string>());

        // The only silo dies: the gateway answers 503 with Retry-After and the `unavailable` code, never a 500, and says it is not ready.
        silo.Kill();
        var unavailable = await Eventually.WaitForAsync(() => http.GetAsync($"/api/v1/accounts/{account}"), r => (int)r.StatusCode != 200,
            TimeSpan.FromSeconds(60), "the gateway to notice the silo is gone");
        Assert.Equal(503, (int)unavailable.StatusCode);
        Assert.NotNull(unavailable.Headers.RetryAfter);
        Assert.Contains("\"code\":\"unavailable\"", await unavailable.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(503, (int)(await http.GetAsync("/health/ready")).StatusCode);

        // A silo comes back on the same database: the gateway serves the stored account again, without a restart.
        await using var replacement = await Silos.StartAsync(environment);
        var back = await Eventually.WaitForAsync(() => http.GetAsync($"/api/v1/accounts/{account}"), r => r.IsSuccessStatusCode,
            TimeSpan.FromSeconds(120), "the gateway to reach the new silo");
        Assert.Contains("12.5", await back.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
