using System.Data;
using System.Data.Common;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Microsoft.Data.Sqlite connections that set <c>busy_timeout</c> and <c>synchronous=NORMAL</c> when they
/// open. Without a busy timeout a writer that meets another writer's lock is retried by
/// Microsoft.Data.Sqlite with sleeps on the calling (grain) thread; with it SQLite waits natively and briefly.
/// </summary>
public sealed class TunedSqliteFactory : DbProviderFactory
{
    public static readonly TunedSqliteFactory Instance = new();

    public const int BusyTimeoutMs = 10_000;

    public override DbConnection CreateConnection()
    {
        var connection = new SqliteConnection();
        connection.StateChange += static (sender, e) =>
        {
            if (e.CurrentState != ConnectionState.Open || e.OriginalState == ConnectionState.Open) return;
            using var command = ((SqliteConnection)sender).CreateCommand();
            command.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA synchronous = NORMAL;";
            command.ExecuteNonQuery();
        };
        return connection;
    }

    public override DbCommand CreateCommand() => new SqliteCommand();
    public override DbParameter CreateParameter() => new SqliteParameter();
    public override DbConnectionStringBuilder CreateConnectionStringBuilder() => new SqliteConnectionStringBuilder();

    /// <summary>
    /// Points the Orleans ADO.NET grain storage's SQLite invariant at this factory. Orleans 10.4 offers no
    /// connection hook, so its provider map is edited by reflection; if a later Orleans moves it, start-up
    /// fails here loudly rather than running without the busy timeout.
    /// </summary>
    public static void InstallForOrleansStorage()
    {
        var factoryType = typeof(Orleans.Configuration.AdoNetGrainStorageOptions).Assembly
            .GetType("Orleans.Persistence.AdoNet.Storage.DbConnectionFactory")
            ?? throw new InvalidOperationException("Orleans.Persistence.AdoNet changed: DbConnectionFactory not found.");
        var map = factoryType.GetField("providerFactoryTypeMap", BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
            as Dictionary<string, List<Tuple<string, string>>>
            ?? throw new InvalidOperationException("Orleans.Persistence.AdoNet changed: provider map not found.");
        lock (map)
        {
            map[SqliteInvariant] = [Tuple.Create(typeof(TunedSqliteFactory).Assembly.GetName().Name!, typeof(TunedSqliteFactory).FullName!)];
        }
    }

    /// <summary>The invariant Orleans uses for SQLite (backed by Microsoft.Data.Sqlite).</summary>
    public const string SqliteInvariant = "System.Data.SQLite";
}
