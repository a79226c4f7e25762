using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentDesk.Contracts.Events;
using AgentDesk.Domain.Intents;
using Orleans.Storage;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Stores grain state as plain System.Text.Json (camelCase, enums as names): readable in the database, with
/// no .NET type names in it, so renaming a class never orphans stored rows. An event draft's payload is stored as the JSON
/// it is (<see cref="EventPayloadJsonConverter"/>).
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
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { EventPayloadJsonConverter.Apply } },
    };

    /// <summary>What <see cref="JsonSerializer.SerializeToUtf8Bytes{TValue}(TValue, JsonSerializerOptions?)"/> writes with for <see cref="Options"/>.</summary>
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = Options.Encoder, Indented = Options.WriteIndented, IndentCharacter = Options.IndentCharacter, IndentSize = Options.IndentSize,
        NewLine = Options.NewLine, MaxDepth = Options.MaxDepth == 0 ? 64 : Options.MaxDepth, SkipValidation = true,
    };

    [ThreadStatic] private static SerializationBuffer? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    public BinaryData Serialize<T>(T? input) => new(Serialize(input, 0, static (json, _) =>
    {
        var bytes = GC.AllocateUninitializedArray<byte>(json.Length);
        json.CopyTo(bytes);
        return bytes;
    }));

    /// <summary>Receives a state's JSON, which lives only until it returns.</summary>
    public delegate TResult JsonReceiver<in TArg, out TResult>(ReadOnlySpan<byte> json, TArg arg);

    /// <summary>
    /// Writes the state's JSON (the same bytes as <c>JsonSerializer.SerializeToUtf8Bytes</c>) into a buffer this thread
    /// keeps, and hands it to <paramref name="receive"/>, which copies what it keeps. A state is mostly remembered outcomes
    /// copied in whole (an agent's is some KB), and the framework's own path rents a pooled buffer for every call and clears
    /// it on return, so each write went over the state's bytes four times (copy in, copy out, clear, and the zeroing of the
    /// result); this way it is twice, and a receiver with an array of its own to copy into allocates nothing
    /// (<see cref="InProcessMemoryGrainStorage"/>).
    /// </summary>
    public static TResult Serialize<T, TArg, TResult>(T? input, TArg arg, JsonReceiver<TArg, TResult> receive)
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
            return receive(buffer.WrittenSpan, arg);
        }
        finally
        {
            buffer.Reset();
            t_buffer = buffer;
            t_writer = writer;
        }
    }

    public T Deserialize<T>(BinaryData input) => Deserialize<T>(input.ToMemory().Span);

    public static T Deserialize<T>(ReadOnlySpan<byte> json) => JsonSerializer.Deserialize<T>(json, Options)!;
}
