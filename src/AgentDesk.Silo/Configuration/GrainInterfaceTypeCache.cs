using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Serialization.TypeSystem;

namespace AgentDesk.Silo.Configuration;

/// <summary>
/// Orleans 10.4 works out a grain interface's name from the interface's attributes (or, failing those, its formatted
/// type name) on every <c>GetGrain</c> call, so every grain reference cost reflection: about 5 % of an intent's CPU, in
/// seven references per intent. The answer depends only on the interface type, so it is kept after the first call.
/// Silos and cluster clients both register it; Orleans' own resolution still gives each first answer.
/// </summary>
public static class GrainInterfaceTypeCache
{
    public static IServiceCollection AddGrainInterfaceTypeCache(this IServiceCollection services) =>
        // Registered after Orleans' resolver, so this one is the one every grain factory gets.
        services.AddSingleton(provider =>
        {
            var types = provider.GetRequiredService<TypeConverter>();
            var uncached = new GrainInterfaceTypeResolver(provider.GetServices<IGrainInterfaceTypeProvider>(), types);
            return new GrainInterfaceTypeResolver([new Cached(uncached)], types);
        });

    private sealed class Cached(GrainInterfaceTypeResolver uncached) : IGrainInterfaceTypeProvider
    {
        private readonly ConcurrentDictionary<Type, GrainInterfaceType> _known = new();
        private readonly Func<Type, GrainInterfaceType> _resolve = uncached.GetGrainInterfaceType;

        public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
        {
            grainInterfaceType = _known.GetOrAdd(type, _resolve);
            return true;
        }
    }
}
