using System.Net;
using System.Net.Sockets;
using AgentDesk.Contracts.Common;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentDesk.Integration.Tests;

/// <summary>Silo processes and cluster clients for tests, configured as an operator would: environment variables only.</summary>
public static class Silos
{
    /// <summary>Settings for a cluster on the test PostgreSQL under a fresh id, with failure detection a starved 2-core machine tolerates.</summary>
    public static Dictionary<string, string> PostgresCluster(string clusterId) => new()
    {
        ["AgentDesk__Cluster__Mode"] = "Postgres",
        ["AgentDesk__Cluster__ConnectionString"] = TestEnvironment.PostgresConnectionString,
        ["AgentDesk__Cluster__ClusterId"] = clusterId,
        ["AgentDesk__Cluster__ServiceId"] = clusterId,
        ["AgentDesk__Cluster__Membership__ProbeTimeout"] = "00:00:02",
        ["AgentDesk__Cluster__Membership__NumMissedProbesLimit"] = "3",
        ["AgentDesk__Cluster__Membership__NumVotesForDeathDeclaration"] = "1",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    public static string NewClusterId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 11)];

    /// <summary>Starts a silo process and waits until its gateway port accepts connections.</summary>
    public static async Task<ServerProcess> StartAsync(IDictionary<string, string> environment, int? siloPort = null, int? gatewayPort = null)
    {
        var settings = new Dictionary<string, string>(environment)
        {
            ["AgentDesk__Cluster__SiloPort"] = (siloPort ?? Ports.Next()).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["AgentDesk__Cluster__GatewayPort"] = (gatewayPort ?? Ports.Next()).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var silo = ServerProcess.StartProgram("AgentDesk.Silo", settings);
        await WaitForPortAsync(silo, int.Parse(settings["AgentDesk__Cluster__GatewayPort"], System.Globalization.CultureInfo.InvariantCulture), TimeSpan.FromSeconds(60));
        return silo;
    }

    public static async Task WaitForPortAsync(ServerProcess process, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The process exited before listening on {port}:\n{process.Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"Nothing listened on {port} within {timeout.TotalSeconds} s:\n{process.Output}");
    }

    /// <summary>A cluster client, as the gateway builds one.</summary>
    public static async Task<IHost> ConnectAsync(string clusterId, Action<IClientBuilder> clustering)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(client =>
        {
            clustering(client);
            client.Services.AddAgentDeskSerialization();
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

    public static Task<IHost> ConnectToPostgresAsync(string clusterId) => ConnectAsync(clusterId, c => c.UseAdoNetClustering(o =>
    {
        o.Invariant = "Npgsql";
        o.ConnectionString = TestEnvironment.PostgresConnectionString;
    }));
}
