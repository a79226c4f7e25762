using AgentDesk.Silo.Configuration;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests;

/// <summary>One in-process cluster (memory storage) shared by a test collection; tests use fresh keys.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) => silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = ClusterMode.Memory }));
        builder.ConfigureClient(client => client.AddMemoryStreams(Contracts.Prices.IPriceFeedGrain.StreamProvider));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
