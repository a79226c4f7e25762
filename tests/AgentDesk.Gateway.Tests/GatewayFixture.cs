using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentDesk.Gateway.Hosting;
using AgentDesk.Testing;
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
    public const string AdminKey = "test-admin-key-0123456789";
    public const string JwtKey = "a-test-signing-key-that-is-long-enough-for-hmac";

    private WebApplication? _app;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The co-hosted cluster, for tests that look at it directly (activation counts).</summary>
    public IClusterClient Cluster => _app!.Services.GetRequiredService<IClusterClient>();
    public Uri BaseAddress { get; private set; } = null!;

    protected virtual int PermitsPerSecond => 100_000;
    protected virtual int AnonymousPermitsPerSecond => 100_000;

    /// <summary>Most tests move prices in large steps on purpose; the outlier guard has its own fixture.</summary>
    protected virtual int MaxJumpBps => 1_000_000;

    /// <summary>Further settings a fixture adds, as command-line pairs.</summary>
    protected virtual IEnumerable<string> ExtraSettings => [];

    /// <summary>Anything else a fixture changes on the host before it is built (a log provider, say).</summary>
    protected virtual void Configure(WebApplicationBuilder builder)
    {
    }

    /// <summary>The organisation the admin key acts in.</summary>
    public const string AdminOrganization = "AgentDesk";

    public async Task InitializeAsync()
    {
        string Port() => Ports.Next().ToString(System.Globalization.CultureInfo.InvariantCulture);
        _app = GatewayHost.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--AgentDesk:Cluster:Mode", "Memory",
            "--AgentDesk:Cluster:SiloPort", Port(),
            "--AgentDesk:Cluster:GatewayPort", Port(),
            "--AgentDesk:Auth:AdminKey", AdminKey,
            "--AgentDesk:Auth:JwtSigningKey", JwtKey,
            "--AgentDesk:RateLimit:PermitsPerSecond", PermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--AgentDesk:RateLimit:AnonymousPermitsPerSecond", AnonymousPermitsPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--AgentDesk:Prices:MaxJumpBps", MaxJumpBps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Logging:LogLevel:Default", "Warning",
            .. ExtraSettings,
        ], Configure);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address);
        Http = Client(AdminKey);
    }

    /// <summary>A client holding a newly issued key of <paramref name="role"/> in <paramref name="organization"/>.</summary>
    public async Task<HttpClient> KeyAsync(string role, string organization)
    {
        var issued = await Http.PostAsync("/api/v1/api-keys", new { role, organization }).OkAsync();
        return Client(issued["apiKey"]!.GetValue<string>());
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

