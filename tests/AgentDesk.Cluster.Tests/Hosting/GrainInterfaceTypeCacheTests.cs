using System.Reflection;
using AgentDesk.Contracts.Agents;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace AgentDesk.Cluster.Tests.Hosting;

/// <summary>
/// The silo's grain references come from a resolver that keeps each interface's grain interface type after the first
/// lookup. A wrong answer would send calls to the wrong grain type, so it must be Orleans' own answer, for every
/// grain interface of ours.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class GrainInterfaceTypeCacheTests(ClusterFixture fixture)
{
    [Fact]
    public void The_silo_resolves_every_grain_interface_as_orleans_does_and_again_the_same_from_its_cache()
    {
        var services = fixture.Cluster.Silos[0].ServiceProvider;
        var resolver = services.GetRequiredService<GrainInterfaceTypeResolver>();
        var orleans = new GrainInterfaceTypeResolver(services.GetServices<IGrainInterfaceTypeProvider>(), services.GetRequiredService<TypeConverter>());
        var interfaces = typeof(IAgentGrain).Assembly.GetTypes().Where(t => t.IsInterface && typeof(IAddressable).IsAssignableFrom(t) && !t.ContainsGenericParameters).ToList();
        Assert.True(interfaces.Count > 10, $"found only {interfaces.Count} grain interfaces");

        foreach (var type in interfaces)
        {
            Assert.Equal(orleans.GetGrainInterfaceType(type), resolver.GetGrainInterfaceType(type));
            Assert.Equal(orleans.GetGrainInterfaceType(type), resolver.GetGrainInterfaceType(type));
        }
        // The resolver the grain factory got is the cached one: its only provider is the cache, not Orleans' attribute reader.
        var providers = (IGrainInterfaceTypeProvider[])typeof(GrainInterfaceTypeResolver).GetField("_providers", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(resolver)!;
        Assert.Equal("Cached", Assert.Single(providers).GetType().Name);
    }
}
