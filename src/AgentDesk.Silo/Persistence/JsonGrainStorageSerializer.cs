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
        Converters = { new JsonStringEnumConverter(), new HandledCommandsJsonConverter(), new EventDraftJsonConverter() },
        NumberHandling = JsonNumberHandling.Strict,
        // The writer's pooled buffer starts this large instead of 16 KB: an agent's state (its remembered answers) is about
        // 40 KB, and each doubling of a smaller buffer copied everything written so far.
        DefaultBufferSize = 64 * 1024,
    };

    public BinaryData Serialize<T>(T? input) => new(JsonSerializer.SerializeToUtf8Bytes(input, Options));

    public T Deserialize<T>(BinaryData input) => JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)!;
}
