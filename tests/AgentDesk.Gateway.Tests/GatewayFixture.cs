using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Gateway.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AgentDesk.Gateway.Tests;

/// <summary>
/// The real gateway on Kestrel at a free loopback port, co-hosting a silo with in-memory state. Tests talk
/// to it over HTTP only.
/// </summary>
public class GatewayFixture : IAsyncLifetime
{
    public const string AdminKey = "test-admin-key";
    public const string JwtKey = "a-test-signing-key-that-is-long-enough-for-hmac";

    private WebApplication? _app;

    public HttpClient Http { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;

    protected virtual int PermitsPerSecond => 100_000;

    public async Task InitializeAsync()
    {
        string Port() => Domain.Tests.Support.TestEnvironment.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _app = GatewayHost.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--AgentDesk:Cluster:Mode", "Memory",
            "--AgentDesk:Cluster:SiloPort", Port(),
            "--AgentDesk:Cluster:GatewayPort", Port(),
            "--AgentDesk:Auth:AdminKey", AdminKey,
            "--AgentDesk:Auth:JwtSigningKey", JwtKey,
            "--AgentDesk:Telemetry:Console", "false",
            "--AgentDesk:RateLimit:PermitsPerSecond", PermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default", "Warning",
        ]);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Http = Client(AdminKey);
    }

    public HttpClient Client(string? apiKey = null, string? bearer = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (apiKey is not null) client.DefaultRequestHeaders.Add("x-api-key", apiKey);
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

/// <summary>Small helpers over HTTP: JSON in, JSON out, with the status.</summary>
public static class Api
{
    public static async Task<(int Status, JsonNode? Body)> SendAsync(this HttpClient http, HttpMethod method, string path, object? body = null, string? rawBody = null,
        IDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (rawBody is not null) request.Content = new StringContent(rawBody, Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web));
        foreach (var (k, v) in headers ?? new Dictionary<string, string>()) request.Headers.Add(k, v);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public static Task<(int Status, JsonNode? Body)> PostAsync(this HttpClient http, string path, object? body = null, IDictionary<string, string>? headers = null) =>
        http.SendAsync(HttpMethod.Post, path, body, headers: headers);

    public static Task<(int Status, JsonNode? Body)> PutAsync(this HttpClient http, string path, object body) => http.SendAsync(HttpMethod.Put, path, body);

    public static Task<(int Status, JsonNode? Body)> GetJsonAsync(this HttpClient http, string path) => http.SendAsync(HttpMethod.Get, path);

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
        Assert.NotNull(body!["title"]);
        Assert.NotNull(body["detail"]);
        return body;
    }

    public static string NewAddress() => "0x" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..8];

    public static string NewSymbol() => "T" + Guid.NewGuid().ToString("N")[..7].ToUpperInvariant();

    /// <summary>Waits for a condition with a deadline instead of sleeping.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(25);
        }
    }
}
