using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentDesk.Contracts.Events;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Stores an event draft's payload (<see cref="EventDraft.Data"/>, JSON text) as the JSON it is, not as a string holding it.
/// As a string every quote of the payload took six bytes (<c>\u0022</c>, the default encoder's escape), in every write of
/// every state that holds the event until its log confirms it: a closed position's row was 5,994 bytes, 5,374 with its
/// exit event's payload stored as itself.
/// </summary>
/// <remarks>
/// Reads both forms: a string is a row written before (or a payload that is not an object or an array, which is always
/// stored as a string, since as itself it would read back as another value); an object or an array is read back as its
/// exact text, so the event the log stores and serves is byte for byte the one recorded.
/// </remarks>
internal sealed class EventPayloadJsonConverter : JsonConverter<string>
{
    private static readonly EventPayloadJsonConverter Instance = new();

    /// <summary>
    /// How deep a payload stored as itself may nest: the row around it must still read within the storage's depth limit (64),
    /// and a draft sits a few levels down in its state, deeper inside a remembered answer. A deeper payload is stored as a
    /// string, as every payload was before.
    /// </summary>
    public const int MaxPayloadDepth = 32;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A modifier for the storage's type resolver: the payload of <see cref="EventDraft"/> goes through this converter.</summary>
    public static void Apply(JsonTypeInfo type)
    {
        if (type.Type != typeof(EventDraft)) return;
        foreach (var property in type.Properties)
            if (property.AttributeProvider is PropertyInfo { Name: nameof(EventDraft.Data) }) property.CustomConverter = Instance;
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        if (value is ['{', .., '}'] or ['[', .., ']'] && AsJson(value) is { } json) writer.WriteRawValue(json, skipInputValidation: true);
        else writer.WriteStringValue(value);
    }

    /// <summary>
    /// The payload's UTF-8 if it is one JSON value within <see cref="MaxPayloadDepth"/>; otherwise (not JSON after all, not
    /// valid UTF-16, too deep) null, and it is stored as a string.
    /// </summary>
    private static byte[]? AsJson(string value)
    {
        try
        {
            var json = StrictUtf8.GetBytes(value);
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxPayloadDepth });
            while (reader.Read())
            {
            }
            return json;
        }
        catch (Exception e) when (e is JsonException or EncoderFallbackException)
        {
            return null;
        }
    }

    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.GetString()!;
        using var payload = JsonDocument.ParseValue(ref reader);
        return payload.RootElement.GetRawText();
    }
}
