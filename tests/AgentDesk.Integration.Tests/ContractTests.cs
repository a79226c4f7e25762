using System.Text.RegularExpressions;
using AgentDesk.Testing;

namespace AgentDesk.Integration.Tests;

/// <summary>
/// The API as an outsider meets it, checked by the Node tools beside the tests, each run as a child process with a
/// deadline against the built gateway on a fresh data folder: the OpenAPI contract (tests/contract/run.mjs) and the
/// README's quick start run as written (tests/readme/run-quickstart.mjs), which includes the example client's
/// quote → sign → submit. They need `npm ci` in tests/contract and examples/alphagrid-client, as ./test.sh does.
/// </summary>
public sealed class ContractTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task The_openapi_contract_check_passes_lint_examples_generated_client_story_and_conformance()
    {
        var run = await NodeAsync("tests/contract/run.mjs");
        Assert.True(run.ExitCode == 0 && Regex.IsMatch(run.Output, @"^contract: [1-9]\d* passed, 0 failed$", RegexOptions.Multiline),
            $"node tests/contract/run.mjs exited {run.ExitCode}:\n{Tail(run)}");
    }

    [Fact]
    public async Task The_readme_quick_start_runs_as_written_including_the_example_client_quote_sign_submit()
    {
        var run = await NodeAsync("tests/readme/run-quickstart.mjs", Path.Combine(TestEnvironment.RepoRoot(), "README.md"));
        Assert.True(run.ExitCode == 0 && run.Output.Contains("quickstart: 1 passed, 0 failed", StringComparison.Ordinal),
            $"node tests/readme/run-quickstart.mjs README.md exited {run.ExitCode}:\n{Tail(run)}");
        // examples/alphagrid-client/quote-sign-submit.mjs signed the quote and printed the accepted intent.
        Assert.Matches(new Regex("signed by 0x[0-9a-fA-F]{40}"), run.Output + run.Error);
        Assert.Matches(new Regex("\"positionId\": \"[0-9a-f-]{36}\",\\s+\"transactionHash\": \"0x[0-9a-f]{64}\""), run.Output);
    }

    private static Task<ChildProcess.Result> NodeAsync(string script, params string[] arguments) =>
        ChildProcess.RunAsync("node", [Path.Combine(TestEnvironment.RepoRoot(), script), .. arguments, "--dll", TestEnvironment.BuiltProgram("AgentDesk.Gateway")],
            Deadline);

    private static string Tail(ChildProcess.Result run)
    {
        var all = run.Output + (run.Error.Length > 0 ? "\n--- stderr ---\n" + run.Error : "");
        return all.Length <= 12_000 ? all : "…" + all[^12_000..];
    }
}
