using AgentDesk.Contracts.Common;
using AgentDesk.Silo.Configuration;
using AgentDesk.Venues;
using AgentDesk.Venues.Paper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>In-process silos whose grain state and reminders live in the real PostgreSQL that ./test.sh starts.</summary>
public static class PostgresCluster
{
    public static string ConnectionString => Testing.TestEnvironment.PostgresConnectionString;

    public static async Task<InProcessTestCluster> StartAsync(string serviceId, short silos = 1, TimeSpan? venueDelay = null, int? batchParallelism = null,
        bool? batchedGrainStorage = null, int? outcomesPerPage = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        // A fixed service id: a restarted cluster must find the rows the previous one wrote.
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            var options = new AgentDeskClusterOptions { Mode = ClusterMode.Postgres, ConnectionString = ConnectionString };
            if (batchedGrainStorage is { } batched) options.BatchedGrainStorage = batched; // otherwise the product's default
            silo.AddAgentDeskGrains(options);
            silo.Services.Configure<Grains.Options.PriceOptions>(o => o.MaxJumpBps = 1_000_000);
            if (venueDelay is { } delay) silo.Services.Configure<PaperVenueOptions>(o => o.FillLatencyMs = (int)delay.TotalMilliseconds);
            if (batchParallelism is { } parallelism) silo.Services.Configure<Grains.Options.BatchOptions>(o => o.Parallelism = parallelism);
            if (outcomesPerPage is { } perPage) silo.Services.Configure<Grains.Options.BatchOptions>(o => o.OutcomesPerPage = perPage);
            // Declare a killed silo dead quickly so the survivors take over its grains within the test's deadline.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
        });
        builder.ConfigureClient(client => client.Services.AddAgentDeskSerialization());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>One statement on a connection of its own; the rows it changed.</summary>
    public static async Task<int> ExecuteAsync(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return await command.ExecuteNonQueryAsync();
    }
}
