using System.Text.RegularExpressions;
using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>A gateway process on a port of its own choosing (it binds port 0 and the test reads the port from its banner).</summary>
public sealed partial class GatewayProcess(ServerProcess process, Uri address) : IAsyncDisposable
{
    public ServerProcess Process { get; } = process;
    public Uri Address { get; } = address;

    public HttpClient Client(string? apiKey = null)
    {
        var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null) http.DefaultRequestHeaders.Add("x-api-key", apiKey);
        return http;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    [GeneratedRegex(@"API:\s+(http://\S+)")]
    public static partial Regex ApiLine();
}

public static class Gateways
{
    /// <summary>Starts the gateway with the given settings and waits until it is up and answers /health/ready.</summary>
    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string> environment, string? adminKey = null, string? workingDirectory = null)
    {
        var settings = new Dictionary<string, string>(environment) { ["Urls"] = "http://127.0.0.1:0" };
        if (adminKey is not null) settings["AgentDesk__Auth__AdminKey"] = adminKey;
        var process = workingDirectory is null
            ? ServerProcess.StartProgram("AgentDesk.Gateway", settings)
            : ServerProcess.Start("dotnet", [TestEnvironment.BuiltProgram("AgentDesk.Gateway")], settings, workingDirectory);
        await process.WaitForOutputAsync("API reference:", TimeSpan.FromSeconds(90));
        var address = new Uri(GatewayProcess.ApiLine().Match(process.Output).Groups[1].Value);
        var gateway = new GatewayProcess(process, address);
        using var http = gateway.Client();
        await Eventually.WaitThroughAsync(() => http.GetAsync("/health/ready"), r => r.IsSuccessStatusCode, e => e is HttpRequestException or TaskCanceledException,
            TimeSpan.FromSeconds(90), "the gateway to reach the cluster");
        return gateway;
    }
}
