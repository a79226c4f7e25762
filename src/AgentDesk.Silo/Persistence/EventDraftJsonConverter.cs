using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Contracts.Events;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Writes an <see cref="EventDraft"/> exactly as System.Text.Json would, but works it out once per draft: a draft stays in
/// its grain's state (the outbox) until the organisation's log confirms it, and under load that is dozens of writes later.
/// Each of those writes used to serialise every pending draft again, escaping the quotes of its JSON payload each time; the
/// intents benchmark measured 27 pending drafts per agent write. A draft is immutable (<see cref="SerializedOnce{T}"/>).
/// </summary>
public sealed class EventDraftJsonConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert == typeof(EventDraft);

    /// <summary>One converter per options (System.Text.Json asks once per options and type), each with its own kept forms.</summary>
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        // The same options without this factory: what System.Text.Json writes for a draft on its own. A draft's first
        // serialisation runs inside its state's, so it cannot reuse the thread's writer; a small first buffer keeps it from
        // renting the storage options' 64 KB one for a draft of a few hundred bytes (the output is the same).
        var plain = new JsonSerializerOptions(options) { DefaultBufferSize = 1024 };
        plain.Converters.Remove(this);
        return new Converter(plain);
    }

    private sealed class Converter(JsonSerializerOptions plain) : JsonConverter<EventDraft>
    {
        private readonly SerializedOnce<EventDraft> _drafts = new(plain);

        public override void Write(Utf8JsonWriter writer, EventDraft value, JsonSerializerOptions options) => _drafts.Write(writer, value);

        public override EventDraft Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<EventDraft>(ref reader, plain)!;
    }
}
