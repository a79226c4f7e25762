using System.Text.Json;
using System.Text.Json.Serialization;
using Orleans.Storage;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Stores grain state as plain System.Text.Json (camelCase, enums as names): readable in the database, with
/// no .NET type names in it, so renaming a class never orphans stored rows.
/// </summary>
public sealed class JsonGrainStorageSerializer : IGrainStorageSerializer
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.Strict,
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) => JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)!;
}
