using AgentDesk.Contracts.Common;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>
/// Optimistic concurrency in the real stores: two activations of one grain (a split brain, or a silo declared dead that
/// keeps running) both read version N; the first write wins and the second is refused, so it cannot overwrite money.
/// </summary>
public sealed class StorageConflictTests
{
    public sealed class Balance
    {
        public decimal FreeUsdc { get; set; }
    }

    private static async Task<InProcessTestCluster> StartAsync(string engine, string dataDir)
    {
        if (engine.StartsWith("postgres", StringComparison.Ordinal))
            return await PostgresCluster.StartAsync("occ-" + Guid.NewGuid().ToString("N")[..8], batchedGrainStorage: engine == "postgres");
        var builder = new InProcessTestClusterBuilder(1);
        var mode = engine == "memory" ? ClusterMode.Memory : ClusterMode.SingleNode;
        builder.ConfigureSilo((_, silo) => silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = mode, DataDir = dataDir }));
        builder.ConfigureClient(client => client.Services.AddAgentDeskSerialization());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    [Theory]
    [InlineData("postgres")] // the batched provider, the default
    [InlineData("postgres-adonet")] // Orleans' ADO.NET provider
    [InlineData("sqlite")]
    [InlineData("memory")] // memory mode's rows, copied into in place
    public async Task A_writer_holding_a_stale_version_is_refused_and_the_winners_state_stays(string engine)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "agentdesk-occ-" + Guid.NewGuid().ToString("N")[..8]);
        await using var cluster = await StartAsync(engine, dataDir);
        var storage = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);
        var grainId = GrainId.Create("account", GrainKeys.Account("Occ", Testing.TestData.NewAddress()));
        const string stateName = "occ-balance";

        var seed = new GrainState<Balance>(new Balance { FreeUsdc = 100m });
        await storage.WriteStateAsync(stateName, grainId, seed);

        // Two activations read the same version…
        var first = new GrainState<Balance>();
        var second = new GrainState<Balance>();
        await storage.ReadStateAsync(stateName, grainId, first);
        await storage.ReadStateAsync(stateName, grainId, second);
        Assert.Equal(first.ETag, second.ETag);

        // …the first spends 90, the second (stale) tries to spend 60 of the same 100 and is refused.
        first.State!.FreeUsdc = 10m;
        await storage.WriteStateAsync(stateName, grainId, first);
        second.State!.FreeUsdc = 40m;
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(stateName, grainId, second));

        var stored = new GrainState<Balance>();
        await storage.ReadStateAsync(stateName, grainId, stored);
        Assert.Equal(10m, stored.State!.FreeUsdc);
        Assert.Equal(first.ETag, stored.ETag);

        // A writer that re-reads first succeeds: the refusal is about the version, not the grain.
        stored.State.FreeUsdc = 5m;
        await storage.WriteStateAsync(stateName, grainId, stored);
        if (Directory.Exists(dataDir)) Directory.Delete(dataDir, recursive: true);
    }
}
