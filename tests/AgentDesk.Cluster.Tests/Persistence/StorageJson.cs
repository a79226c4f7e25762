using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Silo.Persistence;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// The grain-storage serializer, and the same options without one of its converters: what System.Text.Json writes on its
/// own, which a storage converter must write byte for byte so that rows read the same before and after it.
/// </summary>
internal static class StorageJson
{
    public static readonly JsonGrainStorageSerializer Serializer = new();

    public static string Stored<T>(T state) => Serializer.Serialize(state).ToString();

    public static JsonSerializerOptions Without<TConverter>(JsonSerializerOptions? source = null) where TConverter : JsonConverter
    {
        var options = new JsonSerializerOptions(source ?? JsonGrainStorageSerializer.Options);
        options.Converters.Remove(options.Converters.OfType<TConverter>().Single());
        return options;
    }
}
