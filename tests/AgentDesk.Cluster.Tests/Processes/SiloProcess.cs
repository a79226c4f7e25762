using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AgentDesk.Domain.Tests.Support;

namespace AgentDesk.Cluster.Tests.Processes;

/// <summary>A real <c>AgentDesk.Silo</c> process, started from its build output with environment configuration.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];

    private SiloProcess(Process process) => _process = process;

    public int GatewayPort { get; private init; }
    public IReadOnlyList<string> Output { get { lock (_output) return _output.ToArray(); } }

    public static SiloProcess Start(IDictionary<string, string> environment, int siloPort, int gatewayPort)
    {
        var dll = TestEnvironment.BuiltProgram("AgentDesk.Silo");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["AgentDesk__Cluster__SiloPort"] = siloPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AgentDesk__Cluster__GatewayPort"] = gatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment) start.Environment[k] = v;
        var process = Process.Start(start)!;
        var silo = new SiloProcess(process) { GatewayPort = gatewayPort };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (silo._output) silo._output.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (silo._output) silo._output.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    /// <summary>Waits until the silo's gateway port accepts connections.</summary>
    public async Task WaitUntilListeningAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"Silo exited with {_process.ExitCode}: {string.Join('\n', Output)}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, GatewayPort);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"Silo did not listen on {GatewayPort}: {string.Join('\n', Output)}");
    }

    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    public static int FreePort() => TestEnvironment.FreePort();
}
