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
    private const long PostgresLockKey = 0x4147_454E_5444_534B; // "AGENTDSK"

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
        await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresLockKey})", connection))
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        try
        {
            foreach (var (name, sql) in Scripts("postgres"))
            {
                await using var command = new NpgsqlCommand(sql, connection);
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

    public static void MigrateSqlite(string connectionString, ILogger? logger = null)
    {
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        foreach (var (name, sql) in Scripts("sqlite"))
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.ExecuteNonQuery();
            logger?.LogInformation("Applied schema script sqlite/{Script}", name);
        }
    }
}
