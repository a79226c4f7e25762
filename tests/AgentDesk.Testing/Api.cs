using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentDesk.Testing;

/// <summary>HTTP as a client sees it: JSON in, JSON out, with the status.</summary>
public static class Api
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    public static async Task<(int Status, JsonNode? Body)> SendAsync(this HttpClient http, HttpMethod method, string path, object? body = null, string? rawBody = null,
        IDictionary<string, string>? headers = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, contentType);
        else if (body is not null) request.Content = JsonContent.Create(body, options: Web);
        foreach (var (k, v) in headers ?? new Dictionary<string, string>()) request.Headers.TryAddWithoutValidation(k, v);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        if (text.Length > 0)
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                json = JsonValue.Create(text); // not JSON: keep the text for the failure message
            }
        }
        return ((int)response.StatusCode, json);
    }

    public static Task<(int Status, JsonNode? Body)> PostAsync(this HttpClient http, string path, object? body = null, IDictionary<string, string>? headers = null) =>
        http.SendAsync(HttpMethod.Post, path, body, headers: headers);

    public static Task<(int Status, JsonNode? Body)> PutAsync(this HttpClient http, string path, object body) => http.SendAsync(HttpMethod.Put, path, body);

    public static Task<(int Status, JsonNode? Body)> GetJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Get, path);

    public static Task<(int Status, JsonNode? Body)> DeleteJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Delete, path);

    public static async Task<JsonNode> OkAsync(this Task<(int Status, JsonNode? Body)> call)
    {
        var (status, body) = await call;
        Assert.True(status == 200, $"expected 200, got {status}: {body?.ToJsonString()}");
        return body!;
    }

    /// <summary>Asserts a problem-details answer with the given status and code, and returns it.</summary>
    public static async Task<JsonNode> ProblemAsync(this Task<(int Status, JsonNode? Body)> call, int status, string code)
    {
        var (actual, body) = await call;
        Assert.True(actual == status && body?["code"]?.GetValue<string>() == code,
            $"expected {status} {code}, got {actual}: {body?.ToJsonString()}");
        Assert.Equal(status, body!["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(body["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(body["detail"]?.GetValue<string>()));
        return body;
    }
}
