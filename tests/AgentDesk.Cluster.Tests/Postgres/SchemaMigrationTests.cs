using AgentDesk.Silo.Persistence;
using AgentDesk.Testing;
using Npgsql;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>
/// Silos that start together take turns applying the schema (an advisory lock). A silo waiting its turn must not give up
/// at its connection string's command timeout, which is sized for grain-state queries: it would exit instead of starting,
/// as the fault tests' silos once did on a slow machine.
/// </summary>
public sealed class SchemaMigrationTests
{
    [Fact]
    public async Task A_silo_waits_for_another_silos_migration_longer_than_its_command_timeout()
    {
        var impatient = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { CommandTimeout = 1 }.ConnectionString;
        await using var otherSilo = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await otherSilo.OpenAsync();
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_lock({SchemaMigrator.PostgresLockKey})", otherSilo))
            await take.ExecuteNonQueryAsync();

        var migration = SchemaMigrator.MigratePostgresAsync(impatient);
        await Task.Delay(TimeSpan.FromSeconds(3));
        // Three times its command timeout later, still waiting its turn rather than failed.
        Assert.False(migration.IsCompleted, migration.Exception?.ToString());

        await using (var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({SchemaMigrator.PostgresLockKey})", otherSilo))
            await release.ExecuteNonQueryAsync();
        await migration.WaitAsync(TimeSpan.FromMinutes(2));
    }
}
