using AgentDesk.Cluster.Tests.Postgres;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Runtime;

namespace AgentDesk.Cluster.Tests.Processes;

/// <summary>The standalone silo host as a user runs it: real processes, real PostgreSQL, a real SQLite file.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task Two_silo_processes_on_one_postgres_form_one_cluster_that_survives_losing_one()
    {
        var clusterId = "proc-" + Guid.NewGuid().ToString("N")[..10];
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__Cluster__Mode"] = "Postgres",
            ["AgentDesk__Cluster__ConnectionString"] = PostgresCluster.ConnectionString,
            ["AgentDesk__Cluster__ClusterId"] = clusterId,
            ["AgentDesk__Cluster__ServiceId"] = clusterId,
        };
        await using var first = SiloProcess.Start(environment, SiloProcess.FreePort(), SiloProcess.FreePort());
        await first.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
        await using var second = SiloProcess.Start(environment, SiloProcess.FreePort(), SiloProcess.FreePort());
        await second.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));

        using var client = await ConnectAsync(clusterId, c => c.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = PostgresCluster.ConnectionString;
        }));
        var grains = client.Services.GetRequiredService<IClusterClient>();
        var management = grains.GetGrain<IManagementGrain>(0);
        var hosts = await Eventually.WaitForAsync(() => management.GetHosts(onlyActive: true), h => h.Count == 2, TimeSpan.FromSeconds(60), "two active silos");
        Assert.Equal(2, hosts.Count);

        var accounts = Enumerable.Range(0, 20).Select(_ => Scenario.NewAddress()).ToList();
        foreach (var a in accounts)
        {
            await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(a)).CreateAsync();
            await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(a)).DepositAsync("d", 10m);
        }

        second.Kill();
        // Calls routed to the killed silo fail until it is declared dead; after that every account is served.
        var balances = await Eventually.WaitForAsync(async () =>
        {
            try
            {
                var views = await Task.WhenAll(accounts.Select(a => grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(a)).GetAsync()));
                return views.Sum(v => v!.FreeUsdc);
            }
            catch (Exception e) when (e is SiloUnavailableException or TimeoutException or OrleansException)
            {
                return -1m;
            }
        }, total => total == 200m, TimeSpan.FromSeconds(90), "every account served by the surviving silo");
        Assert.Equal(200m, balances);
    }

    [Fact]
    public async Task Single_node_state_on_sqlite_survives_a_process_restart()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "agentdesk-sqlite-" + Guid.NewGuid().ToString("N")[..8]);
        var clusterId = "sqlite-" + Guid.NewGuid().ToString("N")[..8];
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__DataDir"] = dataDir,
            ["AgentDesk__Cluster__ClusterId"] = clusterId,
            ["AgentDesk__Cluster__ServiceId"] = clusterId,
        };
        var (siloPort, gatewayPort) = (SiloProcess.FreePort(), SiloProcess.FreePort());
        var address = Scenario.NewAddress();
        var symbol = "S" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant();

        await using (var silo = SiloProcess.Start(environment, siloPort, gatewayPort))
        {
            await silo.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
            using var client = await ConnectAsync(clusterId, c => c.UseLocalhostClustering(gatewayPort, clusterId, clusterId));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(address)).CreateAsync();
            await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(address)).DepositAsync("d1", 42.5m);
            await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(123.45m, DateTimeOffset.UtcNow);
            silo.Kill(); // no graceful shutdown: what is on disk is all there is
        }
        Assert.True(File.Exists(Path.Combine(dataDir, "agentdesk.db")));

        await using (var silo = SiloProcess.Start(environment, siloPort, gatewayPort))
        {
            await silo.WaitUntilListeningAsync(TimeSpan.FromSeconds(60));
            using var client = await ConnectAsync(clusterId, c => c.UseLocalhostClustering(gatewayPort, clusterId, clusterId));
            var grains = client.Services.GetRequiredService<IClusterClient>();
            var account = await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(address)).GetAsync();
            Assert.Equal(42.5m, account!.FreeUsdc);
            Assert.Equal(42.5m, (await grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(address)).DepositAsync("d1", 42.5m)).Value!.FreeUsdc); // still idempotent
            Assert.Equal(123.45m, (await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync())!.PriceUsd);
        }
        Directory.Delete(dataDir, recursive: true);
    }

    private static async Task<IHost> ConnectAsync(string clusterId, Action<IClientBuilder> clustering)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            clustering(client);
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = clusterId;
            });
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
