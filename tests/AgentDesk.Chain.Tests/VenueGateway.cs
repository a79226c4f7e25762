using System.Globalization;
using AgentDesk.Gateway.Hosting;
using AgentDesk.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace AgentDesk.Chain.Tests;

/// <summary>
/// The real gateway on Kestrel (co-hosting a silo with in-memory state) on one venue: the paper venue with prices pushed
/// over HTTP, or the EVM venue on the fixture's chain with prices read from the chain's feeds. Tests talk HTTP only, and
/// move prices through <see cref="SetPriceAsync"/>, which does what a real deployment of that venue does.
/// </summary>
public sealed class VenueGateway : IAsyncDisposable
{
    public const string AdminKey = "chain-test-admin-key-0123456789";

    /// <summary>The organisation the admin key acts in (no <c>X-Organization</c> is sent).</summary>
    public static readonly string Organization = new Gateway.Access.AuthOptions().AdminOrganization;

    private readonly WebApplication _app;

    private VenueGateway(WebApplication app, string venue, ChainFixture chain, HttpClient http)
    {
        _app = app;
        Venue = venue;
        Chain = chain;
        Http = http;
    }

    /// <summary>"Paper" or "Evm".</summary>
    public string Venue { get; }
    public bool OnChain => Venue == "Evm";
    public ChainFixture Chain { get; }
    public HttpClient Http { get; }

    public static async Task<VenueGateway> StartAsync(string venue, ChainFixture chain, params string[] extra)
    {
        string Port() => Ports.Next().ToString(CultureInfo.InvariantCulture);
        var app = GatewayHost.Build(
        [
            "--urls", "http://127.0.0.1:0",
            "--AgentDesk:Cluster:Mode", "Memory",
            "--AgentDesk:Cluster:SiloPort", Port(),
            "--AgentDesk:Cluster:GatewayPort", Port(),
            "--AgentDesk:Auth:AdminKey", AdminKey,
            "--AgentDesk:RateLimit:PermitsPerSecond", "100000",
            "--AgentDesk:RateLimit:AnonymousPermitsPerSecond", "100000",
            // The stories move prices in large steps on purpose; the outlier guard has its own tests.
            "--AgentDesk:Prices:MaxJumpBps", "1000000",
            "--AgentDesk:Telemetry:Console", "false",
            "--Logging:LogLevel:Default", "Warning",
            .. venue == "Evm" ? chain.EvmSettings() : [],
            .. extra,
        ]);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("x-api-key", AdminKey);
        return new VenueGateway(app, venue, chain, http);
    }

    /// <summary>
    /// The price as each venue gets it: pushed by an oracle over HTTP (paper), or a new round of the token's feed on-chain
    /// (EVM), which the silo reads on the next block. Returns once the gateway serves that price.
    /// </summary>
    public async Task SetPriceAsync(string symbol, decimal priceUsd)
    {
        if (OnChain) await Chain.SetPriceAsync(symbol, priceUsd);
        else await Http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = priceUsd.ToString(CultureInfo.InvariantCulture) } } }).OkAsync();
        await Eventually.WaitForAsync(async () => await Http.GetJsonAsync($"/prices?symbols={symbol}"),
            r => r.Status == 200 && r.Body?["prices"]?.AsArray() is [{ } quote] && quote["priceUsd"]!.GetValue<decimal>() == priceUsd,
            what: $"{symbol} at {priceUsd}");
    }

    /// <summary>A client with no credentials (what an agent uses: its signature authenticates).</summary>
    public HttpClient Anonymous() => new() { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
