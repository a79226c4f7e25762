using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Contracts.Events;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Writes an <see cref="EventDraft"/> exactly as System.Text.Json would, but works it out once per draft: a draft stays in
/// its grain's state (the outbox) until the organisation's log confirms it, and under load that is dozens of writes later.
/// Each of those writes used to serialise every pending draft again, escaping the quotes of its JSON payload each time; the
/// intents benchmark measured 27 pending drafts per agent write. A draft is immutable, so its bytes are kept beside it (a
/// weak table: they go when the draft goes) and copied into later writes.
/// </summary>
/// <remarks>
/// The table is safe to use from any thread, which matters because the ADO.NET provider serialises on a pool thread while
/// the grain's outbox may already be swapping in a new list. A copy made with <c>with</c> is another instance, so it is
/// written from its own values.
/// </remarks>
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

    private sealed class Converter : JsonConverter<EventDraft>
    {
        private readonly JsonSerializerOptions _plain;
        private readonly ConditionalWeakTable<EventDraft, byte[]> _forms = new();
        private readonly ConditionalWeakTable<EventDraft, byte[]>.CreateValueCallback _serialize;

        public Converter(JsonSerializerOptions plain)
        {
            _plain = plain;
            _serialize = draft => JsonSerializer.SerializeToUtf8Bytes(draft, _plain);
        }

        public override void Write(Utf8JsonWriter writer, EventDraft value, JsonSerializerOptions options) =>
            writer.WriteRawValue(_forms.GetValue(value, _serialize), skipInputValidation: true);

        public override EventDraft Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonSerializer.Deserialize<EventDraft>(ref reader, _plain)!;
    }
}
