using AgentDesk.Contracts.Common;
using AgentDesk.Silo.Configuration;
using AgentDesk.Venues;
using AgentDesk.Venues.Paper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>In-process silos whose grain state and reminders live in the real PostgreSQL that ./test.sh starts.</summary>
public static class PostgresCluster
{
    public static string ConnectionString => Testing.TestEnvironment.PostgresConnectionString;

    public static async Task<InProcessTestCluster> StartAsync(string serviceId, short silos = 1, TimeSpan? venueDelay = null, int? batchParallelism = null)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        // A fixed service id: a restarted cluster must find the rows the previous one wrote.
        builder.Options.ServiceId = serviceId;
        builder.Options.ClusterId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            if (venueDelay is { } delay)
                silo.Services.AddSingleton<IExecutionVenue>(sp => new SlowVenue(
                    new PaperVenue(sp.GetRequiredService<IOptions<PaperVenueOptions>>(), TimeProvider.System), delay));
            silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = ClusterMode.Postgres, ConnectionString = ConnectionString });
            silo.Services.Configure<Grains.Options.PriceOptions>(o => o.MaxJumpBps = 1_000_000);
            if (batchParallelism is { } parallelism) silo.Services.Configure<Grains.Options.BatchOptions>(o => o.Parallelism = parallelism);
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
}

/// <summary>The paper venue, slowed down so a batch is still fanning out when a silo is killed.</summary>
public sealed class SlowVenue(IExecutionVenue inner, TimeSpan delay) : IExecutionVenue
{
    public bool SendsOutsideCluster => inner.SendsOutsideCluster;

    public Task<Domain.Common.Outcome<VenueFill>?> ReconcileAsync(VenueOrder order, CancellationToken cancellationToken = default) =>
        inner.ReconcileAsync(order, cancellationToken);

    public async Task<Domain.Common.Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, cancellationToken);
        return await inner.OpenAsync(order, cancellationToken);
    }

    public Task<Domain.Common.Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default) =>
        inner.CloseAsync(order, cancellationToken);
}
