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

    [Fact]
    public async Task A_silo_without_a_reachable_postgres_stops_with_one_line_naming_the_server_and_pointing_to_postgres_sh()
    {
        var port = Ports.Next(); // bindable a moment ago: nothing listens there
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__Cluster__Mode"] = "Postgres",
            ["AgentDesk__Cluster__ConnectionString"] = $"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres",
            ["AgentDesk__Cluster__SiloPort"] = Ports.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AgentDesk__Cluster__GatewayPort"] = Ports.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var program = TestEnvironment.BuiltProgram("AgentDesk.Silo");
        foreach (var arguments in new[] { Array.Empty<string>(), ["migrate"] })
        {
            var run = await ChildProcess.RunAsync("dotnet", [program, .. arguments], TimeSpan.FromSeconds(60), environment: environment);
            var printed = (run.Output + run.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}:\n{run.Output}{run.Error}");
            var line = Assert.Single(printed);
            Assert.StartsWith($"AgentDesk silo: Cannot connect to PostgreSQL at 127.0.0.1:{port}: Connection refused.", line, StringComparison.Ordinal);
            Assert.Contains("deploy/local/postgres.sh start", line, StringComparison.Ordinal);
        }
    }
}
