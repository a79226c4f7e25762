using System.Text.Json;
using System.Text.Json.Nodes;
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

    /// <summary>A remembered-commands memory as the storage writes it: <c>{"entries":{key: answer, …},"count":n}</c>.</summary>
    public static JsonObject Remembered<T>(params (string Key, T Answer)[] answers)
    {
        var entries = new JsonObject();
        foreach (var (key, answer) in answers) entries[key] = JsonSerializer.SerializeToNode(answer, JsonGrainStorageSerializer.Options);
        return new JsonObject { ["entries"] = entries, ["count"] = answers.Length };
    }

    /// <summary>The keys a stored row remembers in <paramref name="memory"/>, in order.</summary>
    public static string[] Keys(JsonObject row, string memory) => row[memory]!["entries"]!.AsObject().Select(e => e.Key).ToArray();
}
