using AgentDesk.Contracts.Common;
using AgentDesk.Grains.Options;
using AgentDesk.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
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
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = ClusterMode.Memory });
            // These tests move prices in large steps on purpose; the outlier guard has its own tests.
            silo.Services.Configure<PriceOptions>(o => o.MaxJumpBps = 1_000_000);
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddAgentDeskSerialization();
            client.AddMemoryStreams(Contracts.Prices.IPriceFeedGrain.StreamProvider);
        });
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
