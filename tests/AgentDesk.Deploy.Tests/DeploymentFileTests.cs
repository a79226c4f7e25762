using AgentDesk.Testing;

namespace AgentDesk.Deploy.Tests;

/// <summary>
/// The deployment files (deploy/k8s, deploy/compose, deploy/docker, .dockerignore), checked offline by
/// deploy/validate/validate.mjs: `kubectl kustomize` renders each overlay, every object is validated against the
/// Kubernetes schemas (unknown fields refused) and the project's rules; compose.yaml against the Compose
/// Specification schema and the project's rules; the Dockerfiles' stages, user and entry point.
/// Needs node and kubectl on PATH and `npm ci` in deploy/validate (test.sh runs it). Builds no image.
/// </summary>
public sealed class DeploymentFileTests
{
    [Fact]
    public Task The_dev_overlay_and_the_base_pass_every_check() => AssertValidAsync("deploy/validate/validate.mjs", "base", "dev");

    [Fact]
    public Task The_production_overlay_passes_every_check() => AssertValidAsync("deploy/validate/validate.mjs", "production");

    [Fact]
    public Task The_compose_file_and_the_dockerfiles_pass_every_check() => AssertValidAsync("deploy/validate/validate.mjs", "compose");

    /// <summary>The validator's own tests: each breaks one thing in a copy of the files and expects the finding.</summary>
    [Fact]
    public Task Every_check_catches_what_it_is_for() => AssertValidAsync("--test", "deploy/validate/test/");

    private static async Task AssertValidAsync(params string[] arguments)
    {
        var modules = Path.Combine(TestEnvironment.RepoRoot(), "deploy", "validate", "node_modules");
        Assert.True(Directory.Exists(modules), $"{modules} is missing: run `npm ci` in deploy/validate (test.sh does).");
        var result = await ChildProcess.RunAsync("node", arguments, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, $"node {string.Join(' ', arguments)} exited with {result.ExitCode}:\n{result.Output}\n{result.Error}");
    }
}
