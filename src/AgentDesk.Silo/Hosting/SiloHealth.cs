using AgentDesk.Silo.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace AgentDesk.Silo.Hosting;

/// <summary>
/// A silo is ready when it is an active member of the cluster and its storage answers; it is live while the process
/// runs. Kubernetes probes these (docs/operations.md).
/// </summary>
public sealed class SiloReadiness(ISiloStatusOracle membership, AgentDeskClusterOptions options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (membership.CurrentStatus != SiloStatus.Active)
            return HealthCheckResult.Unhealthy($"The silo is {membership.CurrentStatus}, not an active member.");
        try
        {
            await PingStorageAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or SqliteException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy("Storage does not answer.", e);
        }
        return HealthCheckResult.Healthy();
    }

    private async Task PingStorageAsync(CancellationToken cancellationToken)
    {
        switch (options.Mode)
        {
            case ClusterMode.Postgres:
                await using (var connection = new NpgsqlConnection(options.ConnectionString))
                {
                    await connection.OpenAsync(cancellationToken);
                    await using var command = new NpgsqlCommand("SELECT 1", connection);
                    await command.ExecuteScalarAsync(cancellationToken);
                }
                break;
            case ClusterMode.SingleNode:
                await using (var connection = new SqliteConnection(SiloConfiguration.SqliteConnectionString(options.DataDir)))
                {
                    await connection.OpenAsync(cancellationToken);
                }
                break;
        }
    }
}

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary><c>/health/live</c> (the process answers) and <c>/health/ready</c> (every check tagged ready passes).</summary>
    public static void MapAgentDeskHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
    }
}
