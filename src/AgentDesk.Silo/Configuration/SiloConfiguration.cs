using System.Net;
using AgentDesk.Grains.Batches;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Intents;
using AgentDesk.Silo.Persistence;
using AgentDesk.Venues;
using AgentDesk.Venues.Paper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;

namespace AgentDesk.Silo.Configuration;

/// <summary>
/// The silo set-up shared by the standalone silo, the Gateway's co-hosted silo, tests and benchmarks.
/// <see cref="AddAgentDeskGrains"/> adds what grains need (storage, reminders, streams, venue);
/// <see cref="UseAgentDeskClustering"/> adds how the silo finds its peers.
/// </summary>
public static class SiloConfiguration
{
    public static AgentDeskClusterOptions ReadOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(AgentDeskClusterOptions.Section).Get<AgentDeskClusterOptions>() ?? new AgentDeskClusterOptions();
        if (configuration["AgentDesk:DataDir"] is { Length: > 0 } dataDir) options.DataDir = dataDir;
        return options;
    }

    /// <summary>Everything a silo needs whatever its clustering: storage per mode, reminders, streams, the paper venue.</summary>
    public static ISiloBuilder AddAgentDeskGrains(this ISiloBuilder silo, AgentDeskClusterOptions options, IConfiguration? configuration = null)
    {
        var serializer = new JsonGrainStorageSerializer();
        switch (options.Mode)
        {
            case ClusterMode.Memory:
                silo.Services.AddGrainStorage(StorageNames.Provider, (_, _) => new InProcessMemoryGrainStorage(serializer));
                silo.UseInMemoryReminderService();
                break;
            case ClusterMode.SingleNode:
                var sqlite = SqliteConnectionString(options.DataDir);
                if (options.MigrateOnStart) SchemaMigrator.MigrateSqlite(sqlite);
                TunedSqliteFactory.InstallForOrleansStorage();
                silo.AddAdoNetGrainStorage(StorageNames.Provider, o =>
                {
                    o.Invariant = TunedSqliteFactory.SqliteInvariant;
                    o.ConnectionString = sqlite;
                    o.GrainStorageSerializer = serializer;
                });
                silo.UseInMemoryReminderService(); // the ADO.NET reminders have no SQLite support
                break;
            case ClusterMode.Postgres:
                var postgres = RequirePostgres(options);
                if (options.MigrateOnStart) SchemaMigrator.MigratePostgresAsync(postgres).GetAwaiter().GetResult();
                silo.AddAdoNetGrainStorage(StorageNames.Provider, o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = postgres;
                    o.GrainStorageSerializer = serializer;
                });
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = postgres;
                });
                break;
        }

        // Prices are ephemeral: ticks travel on memory streams; only observers' subscriptions need a store.
        silo.AddMemoryGrainStorage(StorageNames.PubSub);
        silo.AddMemoryStreams(Contracts.Prices.IPriceFeedGrain.StreamProvider);

        // Grain calls become OpenTelemetry activities (sources Microsoft.Orleans.Runtime / .Application).
        silo.AddActivityPropagation();
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.TryAddSingleton<IExecutionVenue, PaperVenue>();
        if (configuration is not null)
        {
            silo.Services.Configure<PaperVenueOptions>(configuration.GetSection("AgentDesk:PaperVenue"));
            silo.Services.Configure<BatchOptions>(configuration.GetSection("AgentDesk:Batches"));
            silo.Services.Configure<IntentDomainOptions>(configuration.GetSection("AgentDesk:Intents"));
        }
        return silo;
    }

    /// <summary>Localhost clustering (single node) or ADO.NET clustering on PostgreSQL.</summary>
    public static ISiloBuilder UseAgentDeskClustering(this ISiloBuilder silo, AgentDeskClusterOptions options)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        if (options.Mode == ClusterMode.Postgres)
        {
            var postgres = RequirePostgres(options);
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = postgres;
            });
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
        }
        else
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
        }
        return silo;
    }

    public static string SqliteConnectionString(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(dataDir, "agentdesk.db")),
            Pooling = true,
        }.ToString();
    }

    private static string RequirePostgres(AgentDeskClusterOptions options) =>
        string.IsNullOrWhiteSpace(options.ConnectionString)
            ? throw new InvalidOperationException("Postgres mode needs AgentDesk:Cluster:ConnectionString (AgentDesk__Cluster__ConnectionString).")
            : options.ConnectionString;
}
