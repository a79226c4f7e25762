using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Gateway.Http;

/// <summary>
/// JSON as the API reads and writes it: camelCase, enums as names, numbers only where numbers are expected,
/// and unknown fields refused (a misspelt field is an error, not silently ignored).
/// </summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.PropertyNameCaseInsensitive = true;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.Converters.Add(new JsonStringEnumConverter());
        options.Converters.Add(new Domain.Common.ErrorCodeJsonConverter());
    }

    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        return options;
    }
}

/// <summary>
/// A uint256-style integer field (nonce, deadline) read from a JSON number or a decimal string, so whatever a quote
/// returns can be sent back as it is. Written as a string, the safe JSON form for integers beyond 2^53.
/// </summary>
public sealed class IntegerOrStringConverter : JsonConverter<long?>
{
    public override bool HandleNull => true;

    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var number)) return number;
        if (reader.TokenType == JsonTokenType.String && long.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed)) return parsed;
        throw new JsonException("Expected a non-negative integer as a number or a decimal string.");
    }

    public override void Write(Utf8JsonWriter writer, long? value, JsonSerializerOptions options)
    {
        if (value is { } number) writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
        else writer.WriteNullValue();
    }
}
