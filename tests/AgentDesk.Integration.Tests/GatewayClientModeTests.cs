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
    }
}
