using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentDesk.Testing;

/// <summary>
/// A private anvil (a local EVM chain) on a port of its own choosing, from the Solidity folder's node_modules
/// (<c>npm ci</c> in src/AgentDesk.Venues/Evm/Solidity; ./test.sh runs it). Stopped with its whole process tree.
/// </summary>
public sealed partial class Anvil : IAsyncDisposable
{
    private Anvil(ServerProcess process, string rpcUrl)
    {
        Process = process;
        RpcUrl = rpcUrl;
    }

    public ServerProcess Process { get; }
    public string RpcUrl { get; }

    /// <summary>anvil's default chain id.</summary>
    public const long ChainId = 31337;

    public static string Binary()
    {
        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            var other => other.ToString().ToLowerInvariant(),
        };
        var platform = OperatingSystem.IsLinux() ? "linux" : OperatingSystem.IsMacOS() ? "darwin" : "win32";
        var path = Path.Combine(TestEnvironment.RepoRoot(), "src", "AgentDesk.Venues", "Evm", "Solidity", "node_modules", "@foundry-rs",
            $"anvil-{platform}-{arch}", "bin", OperatingSystem.IsWindows() ? "anvil.exe" : "anvil");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException("anvil is missing: run `npm ci` in src/AgentDesk.Venues/Evm/Solidity (./test.sh does).", path);
    }

    /// <summary>Starts anvil and waits (bounded) until it listens.</summary>
    public static async Task<Anvil> StartAsync(params string[] arguments)
    {
        var process = ServerProcess.Start(Binary(), ["--port", "0", .. arguments], new Dictionary<string, string>());
        try
        {
            await process.WaitForOutputAsync("Listening on", TimeSpan.FromSeconds(30));
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
        var match = ListeningLine().Match(process.Output);
        return new Anvil(process, $"http://{match.Groups[1].Value}:{int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    [GeneratedRegex(@"Listening on ([\d.]+):(\d+)")]
    private static partial Regex ListeningLine();
}
