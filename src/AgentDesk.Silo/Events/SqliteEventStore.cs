using System.Text;
using AgentDesk.Contracts.Events;
using AgentDesk.Grains.Events;
using AgentDesk.Silo.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentDesk.Silo.Events;

/// <summary>
/// Events in the single-node SQLite file (table <c>agentdesk_events</c>, deploy/sql/sqlite/003_events.sql). An append is
/// one transaction of multi-row inserts (SQLite bounds the parameters of one statement), so a flush commits once.
/// </summary>
public sealed class SqliteEventStore(SqliteConnectionSource connections, IOptions<ClusterOptions> cluster) : IEventStore
{
    /// <summary>Rows per INSERT statement: 10 parameters each, well under SQLite's limit of 32,766.</summary>
    private const int RowsPerStatement = 500;

    private string ServiceId => cluster.Value.ServiceId;

    public async Task<long> LastIdAsync(string organization)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(id), 0) FROM agentdesk_events WHERE service_id = $service AND organization = $organization";
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<EventRecord>> AppendAsync(string organization, IReadOnlyList<EventRecord> events)
    {
        if (events.Count == 0) return [];
        await using var connection = await connections.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        var stored = new HashSet<long>();
        foreach (var chunk in events.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO agentdesk_events (service_id, organization, id, source_key, type, agent_id, account, symbol, at, data) VALUES ");
            command.Parameters.AddWithValue("$service", ServiceId);
            command.Parameters.AddWithValue("$organization", organization);
            for (var i = 0; i < chunk.Length; i++)
            {
                var e = chunk[i];
                if (i > 0) sql.Append(',');
                sql.Append(System.Globalization.CultureInfo.InvariantCulture,
                    $"($service, $organization, $id{i}, $key{i}, $type{i}, $agent{i}, $account{i}, $symbol{i}, $at{i}, $data{i})");
                command.Parameters.AddWithValue($"$id{i}", e.Id);
                command.Parameters.AddWithValue($"$key{i}", e.SourceKey);
                command.Parameters.AddWithValue($"$type{i}", e.Type);
                command.Parameters.AddWithValue($"$agent{i}", (object?)e.AgentId?.ToString("D") ?? DBNull.Value);
                command.Parameters.AddWithValue($"$account{i}", (object?)e.Account ?? DBNull.Value);
                command.Parameters.AddWithValue($"$symbol{i}", (object?)e.Symbol ?? DBNull.Value);
                command.Parameters.AddWithValue($"$at{i}", e.At.UtcTicks);
                command.Parameters.AddWithValue($"$data{i}", e.Data);
            }
            sql.Append(" ON CONFLICT (service_id, organization, source_key) DO NOTHING RETURNING id");
            command.CommandText = sql.ToString();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) stored.Add(reader.GetInt64(0));
        }
        await transaction.CommitAsync();
        return events.Where(e => stored.Contains(e.Id)).ToList();
    }

    public async Task<IReadOnlyList<EventRecord>> ReadAsync(string organization, long afterId, int max)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, source_key, type, agent_id, account, symbol, at, data FROM agentdesk_events
            WHERE service_id = $service AND organization = $organization AND id > $after
            ORDER BY id LIMIT $max
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$max", max);
        var events = new List<EventRecord>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            events.Add(new EventRecord(reader.GetInt64(0), organization, reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : Guid.Parse(reader.GetString(3)), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), new DateTimeOffset(reader.GetInt64(6), TimeSpan.Zero), reader.GetString(7)));
        }
        return events;
    }

    public async Task<int> PruneAsync(DateTimeOffset before)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        // Each organisation's newest event stays, whatever its age: the log numbers on from the highest stored id.
        command.CommandText = """
            DELETE FROM agentdesk_events WHERE service_id = $service AND at < $before
              AND id < (SELECT MAX(m.id) FROM agentdesk_events m WHERE m.service_id = agentdesk_events.service_id AND m.organization = agentdesk_events.organization)
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$before", before.UtcTicks);
        return await command.ExecuteNonQueryAsync();
    }
}
