using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>The product as a new user runs it: the gateway process with no configuration at all, killed and started again.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class SingleNodeRestartTests
{
    [Fact]
    public async Task With_no_configuration_the_gateway_writes_a_private_admin_key_and_keeps_its_data_across_a_kill()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-gateway-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        var account = TestData.NewAddress();
        var agentId = Guid.NewGuid().ToString();
        var keyFile = Path.Combine(workDir, "data", "admin.key");
        string adminKey, operatorKey;

        await using (var gateway = await Gateways.StartAsync(new Dictionary<string, string>(), workingDirectory: workDir))
        {
            adminKey = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(workDir, "data")));
            Assert.Contains(keyFile, gateway.Process.Output, StringComparison.Ordinal);
            using var http = gateway.Client(adminKey);
            await http.PostAsync("/agent/register", new { agentId, name = "Persistent" }).OkAsync();
            await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
            await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "77.5" }).OkAsync();
            await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
            operatorKey = (await http.PostAsync("/api/v1/api-keys", new { role = "operator", organization = "Stored" }).OkAsync())["apiKey"]!.GetValue<string>();
            gateway.Process.Kill(); // no graceful shutdown
        }

        await using (var gateway = await Gateways.StartAsync(new Dictionary<string, string>(), workingDirectory: workDir))
        {
            Assert.Equal(adminKey, (await File.ReadAllTextAsync(keyFile)).Trim());
            using var http = gateway.Client(adminKey);
            var view = await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
            Assert.Equal(77.5m, view["freeUsdc"]!.GetValue<decimal>());
            var subscribers = await http.GetJsonAsync($"/api/v1/agents/{agentId}/subscribers").OkAsync();
            Assert.Equal(account, subscribers["subscribers"]![0]!.GetValue<string>());

            // The issued key survived the kill, and the database files hold its SHA-256 hash, never the key itself.
            using var asOperator = gateway.Client(operatorKey);
            await asOperator.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found");
            var stored = string.Concat(Directory.GetFiles(Path.Combine(workDir, "data"), "agentdesk.db*")
                .Select(f => System.Text.Encoding.UTF8.GetString(ReadShared(f))));
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(operatorKey)));
            Assert.Contains(hash, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(operatorKey, stored, StringComparison.Ordinal);
            Assert.DoesNotContain(adminKey, stored, StringComparison.Ordinal);
        }
        Directory.Delete(workDir, recursive: true);
    }

    [Fact]
    public async Task A_batch_cut_by_killing_the_single_node_resumes_after_the_restart_and_opens_nothing_twice()
    {
        var workDir = Path.Combine(Path.GetTempPath(), "agentdesk-gateway-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(workDir);
        // 200 ms a fill, 2 subscribers at a time: 80 subscribers take about 8 s, long enough to be cut (and to try a
        // batch-close while it runs) after the first checkpoint shows progress, a second in. The request budget of 1 s makes the gateway answer 202 with the batch's status URL.
        var environment = new Dictionary<string, string>
        {
            ["AgentDesk__PaperVenue__FillLatencyMs"] = "200",
            ["AgentDesk__Batches__Parallelism"] = "2",
            ["AgentDesk__Retries__ReminderSeconds"] = "5",
            ["AgentDesk__Gateway__BatchBudgetSeconds"] = "1",
            ["AgentDesk__RateLimit__PermitsPerSecond"] = "10000", // the set-up sends 240 requests as fast as it can
        };
        const string adminKey = "single-node-durability-key-0123";
        var agentId = Guid.NewGuid().ToString();
        var accounts = new List<string>();
        string statusUrl;
        await using (var gateway = await Gateways.StartAsync(environment, adminKey, workDir))
        {
            using var http = gateway.Client(adminKey);
            await http.PostAsync("/agent/register", new { agentId, name = "Durable" }).OkAsync();
            for (var i = 0; i < 80; i++)
            {
                var account = TestData.NewAddress();
                await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
                await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
                await http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
                accounts.Add(account);
            }
            await http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol = "SOL", priceUsd = "150" } } }).OkAsync();

            var accepted = await http.PostAsync("/agent/batch-open", new { agentId, symbol = "SOL", action = "LONG", weight = 50, leverage = 2 },
                new Dictionary<string, string> { ["Idempotency-Key"] = "cut-by-a-crash" });
            Assert.Equal(202, accepted.Status);
            statusUrl = accepted.Body!["statusUrl"]!.GetValue<string>();
            var partial = await Eventually.WaitForAsync(() => http.GetJsonAsync(statusUrl).OkAsync(), b => b["done"]!.GetValue<int>() >= 8,
                TimeSpan.FromSeconds(60), "part of the batch");
            Assert.Equal("Running", partial["status"]!.GetValue<string>());
            // Closing it now would miss whatever it opens later: the close is refused until the open has completed.
            var batchId = accepted.Body!["batchId"]!.GetValue<string>();
            await http.PostAsync("/agent/batch-close", new { agentId, batchId }).ProblemAsync(409, "batch_running");
            gateway.Process.Kill(); // the whole single node: gateway, silo and SQLite writer
        }

        // Nobody retries the request: the restarted node resumes the batch from its durable reminder.
        await using (var gateway = await Gateways.StartAsync(environment, adminKey, workDir))
        {
            using var http = gateway.Client(adminKey);
            var done = await Eventually.WaitForAsync(() => http.GetJsonAsync(statusUrl).OkAsync(), b => b["status"]!.GetValue<string>() == "Completed",
                TimeSpan.FromSeconds(120), "the batch to resume after the restart");
            Assert.Equal(80, done["successful"]!.GetValue<int>());
            var positions = await http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync();
            Assert.Equal(accounts.Order(), positions.AsArray().Select(p => p!["walletAddress"]!.GetValue<string>()).Order()); // one each, none twice
            foreach (var account in accounts.Take(5))
            {
                var view = await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync();
                Assert.Equal(50m, view["freeUsdc"]!.GetValue<decimal>());
                Assert.Equal(50m, view["lockedUsdc"]!.GetValue<decimal>());
            }
        }
        Directory.Delete(workDir, recursive: true);
    }

    /// <summary>Reads a file the running gateway keeps open (SQLite's database and write-ahead log).</summary>
    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
