using System.Diagnostics;
using System.Text;

namespace AgentDesk.Testing;

/// <summary>
/// Runs a short-lived child process with a deadline: its output is read while it runs (never blocking on one stream
/// before the other), and at the deadline the whole process tree is killed and the test fails with what it printed.
/// </summary>
public static class ChildProcess
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, string? input = null,
        string? workingDirectory = null, IDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? TestEnvironment.RepoRoot(),
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{fileName} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds} s.\n{await error}");
        }
        return new Result(process.ExitCode, await output, await error);
    }

    /// <summary>Runs a node script from the repository with a JSON payload on stdin and returns its stdout.</summary>
    public static async Task<string> NodeAsync(string script, string input, TimeSpan? timeout = null)
    {
        var result = await RunAsync("node", [Path.Combine(TestEnvironment.RepoRoot(), script)], timeout ?? TimeSpan.FromSeconds(60), input);
        Assert.True(result.ExitCode == 0, $"node {script} exited with {result.ExitCode}: {result.Error}");
        return result.Output;
    }
}

/// <summary>
/// A long-running program under test (a silo, a gateway, anvil): started with its environment, its output kept for
/// failure messages, stopped gracefully (SIGTERM) or killed (SIGKILL, as a crash).
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process) => _process = process;

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static ServerProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string> environment, string? workingDirectory = null,
        string? netns = null)
    {
        var start = netns is null
            ? new ProcessStartInfo(fileName, arguments)
            : new ProcessStartInfo("ip", ["netns", "exec", netns, fileName, .. arguments]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = workingDirectory ?? TestEnvironment.RepoRoot();
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var server = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>A built .NET program of this repository (src/&lt;project&gt;).</summary>
    public static ServerProcess StartProgram(string project, IDictionary<string, string> environment, IEnumerable<string>? arguments = null, string? netns = null) =>
        Start("dotnet", [TestEnvironment.BuiltProgram(project), .. arguments ?? []], environment,
            Path.GetDirectoryName(TestEnvironment.BuiltProgram(project)), netns);

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited) throw new InvalidOperationException($"The process exited with {_process.ExitCode} before printing '{text}':\n{Output}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"'{text}' did not appear within {timeout.TotalSeconds} s:\n{Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>SIGTERM, then waits for the process to exit by itself (a graceful shutdown), killing it at the deadline.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        if (_process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill!.WaitForExitAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"The process did not stop within {timeout.TotalSeconds} s of SIGTERM:\n{Output}");
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            // Keep the tail: a long-running server's output is only read for failure messages.
            if (_output.Length > 200_000) _output.Remove(0, 100_000);
            _output.AppendLine(line);
        }
    }
}
