using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Contracts.Events;
using AgentDesk.Domain.Intents;
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
        Converters =
        {
            new JsonStringEnumConverter(), new HandledCommandsJsonConverter(), new WrittenOnceJsonConverter<EventDraft>(),
            new WrittenOnceJsonConverter<IntentAuthorization>(),
        },
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>What <see cref="JsonSerializer.SerializeToUtf8Bytes{TValue}(TValue, JsonSerializerOptions?)"/> writes with for <see cref="Options"/>.</summary>
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = Options.Encoder, Indented = Options.WriteIndented, IndentCharacter = Options.IndentCharacter, IndentSize = Options.IndentSize,
        NewLine = Options.NewLine, MaxDepth = Options.MaxDepth == 0 ? 64 : Options.MaxDepth, SkipValidation = true,
    };

    [ThreadStatic] private static SerializationBuffer? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public BinaryData Serialize<T>(T? input) => new(SerializeToArray(input));

    /// <summary>
    /// The state's JSON in an array of its exact size: the same bytes as <c>JsonSerializer.SerializeToUtf8Bytes</c>, written
    /// into a buffer this thread keeps. A state is mostly remembered outcomes copied in whole (an account's is some KB), and
    /// the framework's own path rents a pooled buffer for every call and clears it on return, so each write went over the
    /// state's bytes four times (copy in, copy out, clear, and the zeroing of the result); this way it is twice.
    /// </summary>
    private static byte[] SerializeToArray<T>(T? input)
    {
        var buffer = t_buffer ??= new SerializationBuffer();
        var writer = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        // Taken for the length of the write, so a write on this thread from inside a converter would get its own.
        t_buffer = null;
        t_writer = null;
        try
        {
            writer.Reset(buffer);
            JsonSerializer.Serialize(writer, input, Options);
            var bytes = GC.AllocateUninitializedArray<byte>(buffer.WrittenSpan.Length);
            buffer.WrittenSpan.CopyTo(bytes);
            return bytes;
        }
        finally
        {
            buffer.Reset();
            t_buffer = buffer;
            t_writer = writer;
        }
    }

    public T Deserialize<T>(BinaryData input) => JsonSerializer.Deserialize<T>(input.ToMemory().Span, Options)!;
}
