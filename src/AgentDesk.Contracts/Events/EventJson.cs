using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Contracts.Events;

/// <summary>
/// Events as JSON: payloads when a grain records them, and the envelope every reader sees (an SSE message's data, a
/// webhook's body): <c>{"id","type","organization","agentId","account","symbol","at","data"}</c>.
/// </summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static string Data<T>(T payload) => JsonSerializer.Serialize(payload, Options);

    public static string Envelope(EventRecord e)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("id", e.Id);
            json.WriteString("type", e.Type);
            json.WriteString("organization", e.Organization);
            if (e.AgentId is { } agent) json.WriteString("agentId", agent);
            else json.WriteNull("agentId");
            json.WriteString("account", e.Account);
            json.WriteString("symbol", e.Symbol);
            json.WriteString("at", e.At);
            json.WritePropertyName("data");
            json.WriteRawValue(e.Data);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
