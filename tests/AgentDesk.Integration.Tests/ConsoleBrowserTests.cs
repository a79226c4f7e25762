using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>
/// The operator console in a real browser (Debian's headless Chromium driven by playwright-core, tests/console) against the
/// gateway process as a user runs it: no configuration, a fresh data folder, SQLite. The script signs in, watches a batch
/// complete, sees the stop-loss exits appear live without a reload, pauses and resumes the agent, and takes the README's
/// screenshots: into the run's own folder, and into docs/screenshots only with <c>AGENTDESK_UPDATE_SCREENSHOTS=1</c>, so
/// that running the tests leaves a clone as it was.
/// </summary>
public sealed class ConsoleBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private const int Subscribers = 3;

    [Fact]
    public async Task An_operator_signs_in_watches_a_batch_complete_and_sees_its_exits_arrive_live()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./test.sh installs Debian's chromium package.");
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-console-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        try
        {
            await using var gateway = await Gateways.StartAsync(new Dictionary<string, string>(), workingDirectory: workDir);
            var adminKey = (await File.ReadAllTextAsync(Path.Combine(workDir, "data", "admin.key"))).Trim();
            using var http = gateway.Client(adminKey);
            // A fresh data folder: fixed names are free, and keep the README's screenshots alike from run to run.
            var agentId = "63946153-9f33-4b7e-9b32-b99a4a6037e2";
            const string symbol = "SOL";
            string[] accounts = ["0xbaf3de56e5815e9b2894a95d85b8023c3ac03e4e", "0xe1f8d0d7b845a2da77182325263285c88830adc0", "0x5c0f3b1b4a7d2e9e1f0a6b8c3d4e5f6a7b8c9d0e"];
            await http.PostAsync("/agent/register", new
            {
                agentId, name = "Momentum", agentType = "PERPETUAL",
                agentFees = new Dictionary<string, object> { ["owner_flat"] = new { fee = 0.1m, feeAddress = "0x56d0573c786d3000000000000000000000000001", type = "FLAT" } },
            }).OkAsync();
            for (var i = 0; i < Subscribers; i++)
            {
                var account = accounts[i];
                await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
                await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = $"{100 + i * 25}" }).OkAsync();
                await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
            }
            await http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "100" } } }).OkAsync();

            var screenshots = Path.Combine(workDir, "screenshots");
            Directory.CreateDirectory(screenshots);
            var run = await ChildProcess.RunAsync("node", [Path.Combine(TestEnvironment.RepoRoot(), "tests", "console", "console.test.mjs")],
                TimeSpan.FromMinutes(4), environment: new Dictionary<string, string>
                {
                    ["CONSOLE_BASE_URL"] = gateway.Address.ToString(),
                    ["CONSOLE_API_KEY"] = adminKey,
                    ["CONSOLE_AGENT_ID"] = agentId,
                    ["CONSOLE_SYMBOL"] = symbol,
                    ["CONSOLE_SUBSCRIBERS"] = Subscribers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["CONSOLE_SCREENSHOTS"] = screenshots,
                });
            var lastLine = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            Assert.True(run.ExitCode == 0, $"the console script failed (exit {run.ExitCode}): {lastLine}\n{run.Error}\ngateway:\n{Tail(gateway.Process.Output)}");
            var result = JsonNode.Parse(lastLine)!;
            Assert.True(result["ok"]!.GetValue<bool>());
            Assert.StartsWith($"{Subscribers} / {Subscribers}", result["batchProgress"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(Subscribers, result["exits"]!.GetValue<int>());
            Assert.False(result["reloaded"]!.GetValue<bool>());
            Assert.Empty(result["pageErrors"]!.AsArray());
            foreach (var name in new[] { "console-batch.png", "console-exits.png" })
            {
                var file = new FileInfo(Path.Combine(screenshots, name));
                Assert.True(file.Exists && file.Length > 10_000, $"{name} was not saved");
                Assert.True(file.LastWriteTimeUtc > DateTime.UtcNow.AddMinutes(-5), $"{name} is not from this run");
                var header = new byte[8];
                await using (var png = file.OpenRead()) await png.ReadExactlyAsync(header);
                Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, header);
                if (Environment.GetEnvironmentVariable("AGENTDESK_UPDATE_SCREENSHOTS") == "1")
                    file.CopyTo(Path.Combine(TestEnvironment.RepoRoot(), "docs", "screenshots", name), overwrite: true);
            }
        }
        finally
        {
            Directory.Delete(workDir, recursive: true);
        }
    }

    private static string Tail(string text) => text.Length <= 4_000 ? text : text[^4_000..];
}
