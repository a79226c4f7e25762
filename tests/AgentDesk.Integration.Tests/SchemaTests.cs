using AgentDesk.Testing;
using Npgsql;

namespace AgentDesk.Integration.Tests;

/// <summary>The schema on an empty PostgreSQL database: applied by `migrate`, or by silos that start together.</summary>
public sealed class SchemaTests
{
    private static readonly string[] OrleansTables = ["orleansstorage", "orleansmembershiptable", "orleansreminderstable"];

    /// <summary>A new, empty database on the test server, and settings that point a silo at it.</summary>
    private static async Task<(string Database, Dictionary<string, string> Environment)> EmptyDatabaseAsync(string prefix)
    {
        var database = $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)];
        await using (var admin = new NpgsqlConnection(TestEnvironment.PostgresConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var environment = Silos.PostgresCluster(Silos.NewClusterId(prefix));
        environment["AgentDesk__Cluster__ConnectionString"] = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = database }.ConnectionString;
        return (database, environment);
    }

    private static async Task<IReadOnlyList<string>> TablesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", connection);
        var tables = new List<string>();
        await using var reader = await query.ExecuteReaderAsync();
        while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        return tables;
    }

    [Fact]
    public async Task Two_migrate_commands_at_once_on_an_empty_database_both_succeed_and_create_the_schema()
    {
        var (_, environment) = await EmptyDatabaseAsync("agentdesk_migrate");
        var program = TestEnvironment.BuiltProgram("AgentDesk.Silo");
        var runs = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            ChildProcess.RunAsync("dotnet", [program, "migrate"], TimeSpan.FromSeconds(90), environment: environment)));
        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, $"migrate exited with {run.ExitCode}: {run.Output}{run.Error}");
            Assert.Contains("Schema applied (Postgres)", run.Output, StringComparison.Ordinal);
        }
        Assert.Superset(OrleansTables.ToHashSet(), (await TablesAsync(environment["AgentDesk__Cluster__ConnectionString"])).ToHashSet());

        // Applying it again is harmless: every script is idempotent.
        var again = await ChildProcess.RunAsync("dotnet", [program, "migrate"], TimeSpan.FromSeconds(90), environment: environment);
        Assert.True(again.ExitCode == 0, again.Output + again.Error);
    }

    [Fact]
    public async Task Two_silos_started_together_on_an_empty_database_apply_the_schema_once_and_form_a_cluster()
    {
        var (_, environment) = await EmptyDatabaseAsync("agentdesk_together");
        var silos = await Task.WhenAll(Silos.StartAsync(environment), Silos.StartAsync(environment));
        try
        {
            using var client = await Silos.ConnectAsync(environment["AgentDesk__Cluster__ClusterId"], c => c.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = environment["AgentDesk__Cluster__ConnectionString"];
            }));
            var grains = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<IClusterClient>(client.Services);
            await Eventually.WaitForAsync(() => grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true), hosts => hosts.Count == 2,
                TimeSpan.FromSeconds(60), "both silos active");
            var world = new Scenario(grains);
            var agent = await world.AgentAsync();
            await world.AccountAsync(10m, agent); // state written through the schema the silos created
            Assert.All(silos, s => Assert.DoesNotContain("fail:", s.Output, StringComparison.Ordinal));
            await client.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }
}
