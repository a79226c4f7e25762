using AgentDesk.Domain.Common;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Serialization.Cloning;

namespace AgentDesk.Contracts.Common;

/// <summary>
/// Lets domain value types (namespace <c>AgentDesk.Domain</c>) cross the grain boundary without mirrors in
/// the contracts and without Orleans attributes in the domain: they are serialised with System.Text.Json
/// and, being immutable records and enums, shared rather than copied between grains of one silo.
/// Silos and cluster clients must both call <see cref="AddAgentDeskSerialization"/>.
/// </summary>
public static class DomainSerialization
{
    public static bool IsDomainType(Type type) => type.Namespace?.StartsWith("AgentDesk.Domain", StringComparison.Ordinal) == true;

    public static IServiceCollection AddAgentDeskSerialization(this IServiceCollection services)
    {
        services.AddSingleton<IGeneralizedCopier, ImmutableDomainValues>();
        // A database driver's exception (say, PostgreSQL restarting under a grain's activation) must reach the caller as
        // what it is, so the gateway can answer 503 instead of failing to serialise it.
        services.Configure<Orleans.Serialization.ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));
        return services.AddSerializer(serializer => serializer.AddJsonSerializer(
            isSerializable: IsDomainType,
            isCopyable: _ => false,
            configureOptions: options => options.Configure(o => o.SerializerOptions = Json)));
    }

    private static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.General)
    {
        Converters = { new ErrorCodeJsonConverter() },
    };

    /// <summary>Domain records are immutable by convention (docs/architecture.md), so a "copy" is the same instance.</summary>
    private sealed class ImmutableDomainValues : IGeneralizedCopier
    {
        public bool IsSupportedType(Type type) => IsDomainType(type);

        public object? DeepCopy(object? input, CopyContext context) => input;
    }
}
