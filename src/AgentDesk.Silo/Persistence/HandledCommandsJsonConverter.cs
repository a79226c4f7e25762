using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Domain.Idempotency;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Writes <see cref="HandledCommands{TOutcome}"/> exactly as System.Text.Json would (<c>{"entries":{key: outcome, …},"count":n}</c>),
/// but serializes each remembered outcome once (<see cref="SerializedOnce{T}"/>): an outcome never changes once remembered,
/// and a grain stores all it remembers again with each of its writes. The stored JSON does not change, so
/// rows written before and after read alike. Flags and amounts (value-type outcomes) are left to System.Text.Json: there is
/// nothing worth keeping, and a boxed copy would never be the same instance again.
/// </summary>
public sealed class HandledCommandsJsonConverter : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(HandledCommands<>)
        && !typeToConvert.GetGenericArguments()[0].IsValueType;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(Converter<>).MakeGenericType(typeToConvert.GetGenericArguments()[0]), options)!;

    /// <summary>One per options (System.Text.Json asks the factory once per options and type), so the property names are worked out once.</summary>
    private sealed class Converter<TOutcome>(JsonSerializerOptions storage) : JsonConverter<HandledCommands<TOutcome>> where TOutcome : class
    {
        private readonly string _entriesName = Name(nameof(HandledCommands<TOutcome>.Entries), storage);
        private readonly string _countName = Name(nameof(HandledCommands<TOutcome>.Count), storage);
        private readonly SerializedOnce<TOutcome> _outcomes = new(storage);

        public override void Write(Utf8JsonWriter writer, HandledCommands<TOutcome> value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WritePropertyName(_entriesName);
            writer.WriteStartObject();
            foreach (var (key, outcome) in value.Entries)
            {
                writer.WritePropertyName(options.DictionaryKeyPolicy?.ConvertName(key) ?? key);
                if (outcome is null) writer.WriteNullValue();
                else _outcomes.Write(writer, outcome);
            }
            writer.WriteEndObject();
            writer.WriteNumber(_countName, value.Count);
            writer.WriteEndObject();
        }

        public override HandledCommands<TOutcome> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException($"Expected an object for {typeToConvert.Name}.");
            var commands = new HandledCommands<TOutcome>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var name = reader.GetString();
                reader.Read();
                if (string.Equals(name, _entriesName, options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)
                    && reader.TokenType != JsonTokenType.Null)
                    commands.Entries = JsonSerializer.Deserialize<OrderedDictionary<string, TOutcome>>(ref reader, options)!;
                else
                    reader.Skip();
            }
            return commands;
        }

        private static string Name(string property, JsonSerializerOptions options) => options.PropertyNamingPolicy?.ConvertName(property) ?? property;
    }
}
