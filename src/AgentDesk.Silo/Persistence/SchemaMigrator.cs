using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Applies the project's schema scripts (deploy/sql, embedded in this assembly) in file-name order. Every
/// script is idempotent, so applying them at every start is safe; on PostgreSQL an advisory lock keeps
/// silos that start together from racing each other.
/// </summary>
public static class SchemaMigrator
{
    public const long PostgresLockKey = 0x4147_454E_5444_534B; // "AGENTDSK"

    /// <summary>
    /// How long one migration command may take. A silo waits here for another silo's migration (silos starting together)
    /// and applies DDL on a server that may be busy; the connection string's command timeout is sized for grain-state
    /// queries, and a silo that gave up at it would exit instead of starting.
    /// </summary>
    private const int CommandTimeoutSeconds = 300;

    public static IReadOnlyList<(string Name, string Sql)> Scripts(string engine)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"sql/{engine}/";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return (n[prefix.Length..], reader.ReadToEnd());
            })
            .ToList();
    }

    public static async Task MigratePostgresAsync(string connectionString, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresLockKey})", connection) { CommandTimeout = CommandTimeoutSeconds })
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            foreach (var (name, sql) in Scripts("postgres"))
            {
                await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = CommandTimeoutSeconds };
                await command.ExecuteNonQueryAsync(cancellationToken);
                logger?.LogInformation("Applied schema script postgres/{Script}", name);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresLockKey})", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public static async Task MigrateSqliteAsync(string connectionString, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var (name, sql) in Scripts("sqlite"))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync(cancellationToken);
            logger?.LogInformation("Applied schema script sqlite/{Script}", name);
        }
    }
}

/// <summary>
/// Applies the schema as the first step of the silo's start (before storage, membership or reminders touch the
/// database), so no part of the host is built by blocking on I/O.
/// </summary>
public sealed class SchemaMigration(Func<CancellationToken, Task> migrate) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SchemaMigration), ServiceLifecycleStage.First, migrate, _ => Task.CompletedTask);
}
