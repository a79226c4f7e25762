using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Gateway.Infrastructure;

/// <summary>Reads request bodies so that every malformed input gets a problem with a code, never a bare 400.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.Strict,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    public readonly record struct Body<T>(T? Value, IResult? Error);

    public static async Task<Body<T>> ReadAsync<T>(HttpRequest request) where T : class
    {
        if (request.ContentLength == 0)
            return new(null, Problems.Result("malformed_json", "The request needs a JSON body."));
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted);
            return value is null ? new(null, Problems.Result("malformed_json", "The request body must be a JSON object.")) : new(value, null);
        }
        catch (JsonException e) when (IsTypeError(e) && e.Path is { Length: > 1 })
        {
            return new(null, Problems.Result("invalid_type", $"{e.Path.TrimStart('$', '.')} has the wrong type.",
                new Dictionary<string, string> { ["field"] = e.Path.TrimStart('$', '.') }));
        }
        catch (JsonException e)
        {
            return new(null, Problems.Result("malformed_json", $"The request body is not valid JSON: {e.Message}"));
        }
    }

    // System.Text.Json reports a value of the wrong type with "The JSON value could not be converted to …".
    private static bool IsTypeError(JsonException e) => e.Message.Contains("could not be converted", StringComparison.Ordinal);
}
