using AgentDesk.Contracts.Events;
using AgentDesk.Grains.Events;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;

namespace AgentDesk.Silo.Events;

/// <summary>
/// Events in PostgreSQL (table <c>agentdesk_events</c>, deploy/sql/postgres/004_events.sql). An append is one
/// <c>INSERT … SELECT FROM unnest(…)</c> of every row, so a flush of thousands of events is one statement and one commit.
/// </summary>
public sealed class PostgresEventStore(NpgsqlDataSource database, IOptions<ClusterOptions> cluster) : IEventStore
{
    private string ServiceId => cluster.Value.ServiceId;

    public async Task<long> LastIdAsync(string organization)
    {
        await using var command = database.CreateCommand(
            "SELECT COALESCE(MAX(id), 0) FROM agentdesk_events WHERE service_id = @service AND organization = @organization");
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public async Task<IReadOnlyList<EventRecord>> AppendAsync(string organization, IReadOnlyList<EventRecord> events)
    {
        if (events.Count == 0) return [];
        await using var command = database.CreateCommand("""
            INSERT INTO agentdesk_events (service_id, organization, id, source_key, type, agent_id, account, symbol, at, data)
            SELECT @service, @organization, e.id, e.source_key, e.type, e.agent_id, e.account, e.symbol, e.at, e.data
            FROM unnest(@ids, @keys, @types, @agents, @accounts, @symbols, @ats, @data) AS e(id, source_key, type, agent_id, account, symbol, at, data)
            ON CONFLICT (service_id, organization, source_key) DO NOTHING
            RETURNING id
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        command.Parameters.AddWithValue("ids", events.Select(e => e.Id).ToArray());
        command.Parameters.AddWithValue("keys", events.Select(e => e.SourceKey).ToArray());
        command.Parameters.AddWithValue("types", events.Select(e => e.Type).ToArray());
        command.Parameters.Add(new NpgsqlParameter("agents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = events.Select(e => e.AgentId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("accounts", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Account).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("symbols", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = events.Select(e => e.Symbol).ToArray() });
        command.Parameters.Add(new NpgsqlParameter("ats", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = events.Select(e => e.At.UtcDateTime).ToArray() });
        command.Parameters.AddWithValue("data", events.Select(e => e.Data).ToArray());
        var stored = new HashSet<long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) stored.Add(reader.GetInt64(0));
        }
        return events.Where(e => stored.Contains(e.Id)).ToList();
    }

    public async Task<IReadOnlyList<EventRecord>> ReadAsync(string organization, long afterId, int max)
    {
        await using var command = database.CreateCommand("""
            SELECT id, source_key, type, agent_id, account, symbol, at, data FROM agentdesk_events
            WHERE service_id = @service AND organization = @organization AND id > @after
            ORDER BY id LIMIT @max
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        command.Parameters.AddWithValue("after", afterId);
        command.Parameters.AddWithValue("max", max);
        var events = new List<EventRecord>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            events.Add(new EventRecord(reader.GetInt64(0), organization, reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                new DateTimeOffset(reader.GetDateTime(6), TimeSpan.Zero), reader.GetString(7)));
        }
        return events;
    }

    public async Task<int> PruneAsync(DateTimeOffset before)
    {
        // Each organisation's newest event stays, whatever its age: the log numbers on from the highest stored id, and ids
        // must never be given out twice.
        await using var command = database.CreateCommand("""
            DELETE FROM agentdesk_events e WHERE e.service_id = @service AND e.at < @before
              AND e.id < (SELECT MAX(m.id) FROM agentdesk_events m WHERE m.service_id = e.service_id AND m.organization = e.organization)
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("before", before.UtcDateTime);
        return await command.ExecuteNonQueryAsync();
    }
}
