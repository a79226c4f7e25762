using AgentDesk.Silo.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace AgentDesk.Gateway.Hosting;

/// <summary>
/// The few lines a user needs when the gateway starts: where it listens, where the API reference is, where the data
/// and the admin key are. Logs stay at Warning, so these are not buried.
/// </summary>
public sealed class FirstRunBanner(IHostApplicationLifetime lifetime, IServer server, AgentDeskClusterOptions cluster, IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(Print);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Print()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()?.Replace("://[::]", "://localhost").Replace("://0.0.0.0", "://localhost") ?? "?";
        var lines = new List<string> { $"AgentDesk gateway is up ({Describe(cluster)})", $"  API:           {address}", $"  API reference: {address}/docs" };
        if (cluster.Mode == ClusterMode.SingleNode) lines.Add($"  Data:          {Path.GetFullPath(cluster.DataDir)}");
        if (services.GetService<LocalAdminKey>() is { } adminKey)
            lines.Add($"  Admin key:     {adminKey.Path}{(adminKey.Created ? " (new)" : "")}; send it as the x-api-key header");
        lines.Add("  Stop with Ctrl+C.");
        Console.WriteLine(string.Join(Environment.NewLine, lines));
    }

    private static string Describe(AgentDeskClusterOptions cluster) => cluster.Mode switch
    {
        ClusterMode.SingleNode => "single node, SQLite",
        ClusterMode.Postgres => $"cluster client of {cluster.ServiceId} on PostgreSQL",
        _ => "in-memory",
    };
}
