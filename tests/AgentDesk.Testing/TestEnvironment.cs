namespace AgentDesk.Testing;

/// <summary>Where things are for tests that start processes or servers: the repository and built programs.</summary>
public static class TestEnvironment
{
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cluster.sln not found above the test binaries.");
    }

    /// <summary>
    /// A project's built program, from the same configuration as the running tests (test binaries live in
    /// tests/…/bin/&lt;Configuration&gt;/net10.0; the program in src/&lt;project&gt;/bin/&lt;Configuration&gt;/net10.0).
    /// </summary>
    public static string BuiltProgram(string project)
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var dll = Path.Combine(RepoRoot(), "src", project, "bin", configuration, "net10.0", project + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build the solution first: {project} is not built.", dll);
    }

    /// <summary>The PostgreSQL server ./test.sh started; tests that need it fail (never skip) without it.</summary>
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable("AGENTDESK_TEST_POSTGRES") is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException("AGENTDESK_TEST_POSTGRES is not set: run the tests through ./test.sh, which starts PostgreSQL.");
}
