using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Writes a <typeparamref name="T"/> exactly as System.Text.Json would, but works each instance out once and copies its bytes
/// into every later write that holds the same instance (<see cref="SerializedOnce{T}"/>), in any grain's state. For immutable
/// values that sit in states through many writes or in more than one state:
/// <list type="bullet">
/// <item>an <c>EventDraft</c> waits in its grain's state (the outbox) until its organisation's log confirms it, under load
/// dozens of writes later, and each of those writes used to escape the quotes of its JSON payload again;</item>
/// <item>an <c>IntentAuthorization</c> (the agent's signed intent behind a vault position) stays in the position's state from
/// its open to its next ladder update, through every add written in between.</item>
/// </list>
/// </summary>
public sealed class WrittenOnceJsonConverter<T> : JsonConverterFactory where T : class
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(T);

    /// <summary>One converter per options (System.Text.Json asks once per options and type), each with its own kept forms.</summary>
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        // The same options without this factory: what System.Text.Json writes for the value on its own. A value's first
        // serialisation runs inside its state's, so it cannot reuse the thread's writer; a small first buffer keeps it from
        // renting a large one for a value of a few hundred bytes (the output is the same).
        var plain = new JsonSerializerOptions(options) { DefaultBufferSize = 1024 };
        plain.Converters.Remove(this);
        return new Converter(plain);
    }

    private sealed class Converter(JsonSerializerOptions plain) : JsonConverter<T>
    {
        private readonly SerializedOnce<T> _forms = new(plain);

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => _forms.Write(writer, value);

        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<T>(ref reader, plain)!;
    }
}

