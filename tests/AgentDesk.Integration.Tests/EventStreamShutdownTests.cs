using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>An operator's open event stream does not hold a gateway that is asked to stop.</summary>
public sealed class EventStreamShutdownTests
{
    [Fact]
    public async Task A_gateway_with_open_event_streams_stops_promptly_and_the_streams_end()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-sse-stop-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        try
        {
            await using var gateway = await Gateways.StartAsync(new Dictionary<string, string> { ["AgentDesk__Events__HeartbeatSeconds"] = "20" },
                workingDirectory: workDir);
            using var http = gateway.Client((await File.ReadAllTextAsync(Path.Combine(workDir, "data", "admin.key"))).Trim());
            await using var stream = await EventStreamClient.OpenAsync(http, "/api/v1/events");
            Assert.StartsWith("events after", (await stream.NextAsync(TimeSpan.FromSeconds(10))).Comment, StringComparison.Ordinal);

            // The stream is waiting on the log for up to 20 s; SIGTERM must not wait for that.
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await gateway.Process.StopAsync(TimeSpan.FromSeconds(10));
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {stopping.Elapsed.TotalSeconds:0.0} s");
            await Assert.ThrowsAsync<InvalidOperationException>(() => stream.NextAsync(TimeSpan.FromSeconds(10))); // the stream ended
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }
}
