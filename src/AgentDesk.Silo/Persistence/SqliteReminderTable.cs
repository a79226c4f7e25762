using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Orleans reminders in the single-node SQLite file (table <c>agentdesk_reminders</c>, deploy/sql/sqlite), so reminders
/// survive a restart as they do on PostgreSQL. ETags are row versions: an upsert bumps it, a remove needs the current one.
/// </summary>
public sealed class SqliteReminderTable(SqliteConnectionSource connections, IOptions<ClusterOptions> cluster) : IReminderTable
{
    private string ServiceId => cluster.Value.ServiceId;

    public Task Init() => Task.CompletedTask;

    public Task<ReminderTableData> ReadRows(GrainId grainId) =>
        QueryAsync("WHERE service_id = $service AND grain_id = $grain", c => c.Parameters.AddWithValue("$grain", grainId.ToString()));

    /// <summary>Grains whose uniform hash is in (begin, end], the ring range this silo owns; begin ≥ end wraps around.</summary>
    public Task<ReminderTableData> ReadRows(uint begin, uint end) => begin < end
        ? QueryAsync("WHERE service_id = $service AND grain_hash > $begin AND grain_hash <= $end", c => Range(c, begin, end))
        : QueryAsync("WHERE service_id = $service AND (grain_hash > $begin OR grain_hash <= $end)", c => Range(c, begin, end));

    public async Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName)
    {
        var rows = await QueryAsync("WHERE service_id = $service AND grain_id = $grain AND reminder_name = $name", c =>
        {
            c.Parameters.AddWithValue("$grain", grainId.ToString());
            c.Parameters.AddWithValue("$name", reminderName);
        });
        return rows.Reminders.FirstOrDefault();
    }

    public async Task<string?> UpsertRow(ReminderEntry entry)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO agentdesk_reminders (service_id, grain_id, reminder_name, grain_hash, start_at, period_ms, version)
            VALUES ($service, $grain, $name, $hash, $start, $period, 1)
            ON CONFLICT (service_id, grain_id, reminder_name)
            DO UPDATE SET start_at = excluded.start_at, period_ms = excluded.period_ms, version = agentdesk_reminders.version + 1
            RETURNING version
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$grain", entry.GrainId.ToString());
        command.Parameters.AddWithValue("$name", entry.ReminderName);
        command.Parameters.AddWithValue("$hash", (long)entry.GrainId.GetUniformHashCode());
        command.Parameters.AddWithValue("$start", entry.StartAt.ToUniversalTime().Ticks);
        command.Parameters.AddWithValue("$period", (long)entry.Period.TotalMilliseconds);
        var version = Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        return version.ToString(CultureInfo.InvariantCulture);
    }

    public async Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM agentdesk_reminders WHERE service_id = $service AND grain_id = $grain AND reminder_name = $name AND version = $version";
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$grain", grainId.ToString());
        command.Parameters.AddWithValue("$name", reminderName);
        command.Parameters.AddWithValue("$version", long.Parse(eTag, CultureInfo.InvariantCulture));
        return await command.ExecuteNonQueryAsync() == 1;
    }

    public async Task TestOnlyClearTable()
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM agentdesk_reminders WHERE service_id = $service";
        command.Parameters.AddWithValue("$service", ServiceId);
        await command.ExecuteNonQueryAsync();
    }

    private static void Range(SqliteCommand command, uint begin, uint end)
    {
        command.Parameters.AddWithValue("$begin", (long)begin);
        command.Parameters.AddWithValue("$end", (long)end);
    }

    private async Task<ReminderTableData> QueryAsync(string where, Action<SqliteCommand> bind)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT grain_id, reminder_name, start_at, period_ms, version FROM agentdesk_reminders {where}";
        command.Parameters.AddWithValue("$service", ServiceId);
        bind(command);
        var entries = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            entries.Add(new ReminderEntry
            {
                GrainId = GrainId.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture),
                ReminderName = reader.GetString(1),
                StartAt = new DateTime(reader.GetInt64(2), DateTimeKind.Utc),
                Period = TimeSpan.FromMilliseconds(reader.GetInt64(3)),
                ETag = reader.GetInt64(4).ToString(CultureInfo.InvariantCulture),
            });
        }
        return new ReminderTableData(entries);
    }
}

/// <summary>Connections to the single-node SQLite file, with the busy timeout <see cref="TunedSqliteFactory"/> sets.</summary>
public sealed class SqliteConnectionSource(string connectionString)
{
    public string ConnectionString => connectionString;

    public async Task<SqliteConnection> OpenAsync()
    {
        var connection = (SqliteConnection)TunedSqliteFactory.Instance.CreateConnection();
        connection.ConnectionString = connectionString;
        await connection.OpenAsync();
        return connection;
    }
}
