using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentDesk.Integration.Tests;

/// <summary>The standalone silo host as a user runs it: real processes, real PostgreSQL membership, a real SQLite file.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task Single_node_state_on_sqlite_survives_a_killed_process()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "agentdesk-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
        var clusterId = Silos.NewClusterId("sqlite");
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__DataDir"] = dataDir,
            ["AgentDesk__Cluster__ClusterId"] = clusterId,
            ["AgentDesk__Cluster__ServiceId"] = clusterId,
        };
        var (siloPort, gatewayPort) = (Ports.Next(), Ports.Next());
        var address = TestData.NewAddress();
        var symbol = TestData.NewSymbol();
        var key = GrainKeys.Account("Symphony", address);

        await using (var silo = await Silos.StartAsync(environment, siloPort, gatewayPort))
        {
            using var client = await Silos.ConnectAsync(clusterId, c => c.UseLocalhostClustering(gatewayPort, clusterId, clusterId));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            await grains.GetGrain<ISubscriberGrain>(key).CreateAsync();
            await grains.GetGrain<ISubscriberGrain>(key).DepositAsync("d1", 42.5m);
            await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(123.45m, DateTimeOffset.UtcNow);
            silo.Kill(); // no graceful shutdown: what is on disk is all there is
        }
        Assert.True(File.Exists(Path.Combine(dataDir, "agentdesk.db")));

        await using (var silo = await Silos.StartAsync(environment, siloPort, gatewayPort))
        {
            using var client = await Silos.ConnectAsync(clusterId, c => c.UseLocalhostClustering(gatewayPort, clusterId, clusterId));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var account = await grains.GetGrain<ISubscriberGrain>(key).GetAsync();
            Assert.Equal(42.5m, account!.FreeUsdc);
            Assert.Equal(42.5m, (await grains.GetGrain<ISubscriberGrain>(key).DepositAsync("d1", 42.5m)).Value!.FreeUsdc); // still idempotent
            Assert.Equal(123.45m, (await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync())!.PriceUsd);
        }
        Directory.Delete(dataDir, recursive: true);
    }
}
