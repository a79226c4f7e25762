using AgentDesk.Domain.History;
using AgentDesk.Grains.History;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;

namespace AgentDesk.Silo.History;

/// <summary>
/// Closed trades in PostgreSQL (table <c>agentdesk_trades</c>, deploy/sql/postgres/005_history.sql): an append is one
/// <c>INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING</c>; a page is one index range scan.
/// </summary>
public sealed class PostgresHistoryStore(NpgsqlDataSource database, IOptions<ClusterOptions> cluster) : IHistoryStore
{
    private string ServiceId => cluster.Value.ServiceId;

    public async Task AppendAsync(IReadOnlyList<HistoricalSwap> trades)
    {
        if (trades.Count == 0) return;
        await using var command = database.CreateCommand("""
            INSERT INTO agentdesk_trades (service_id, organization, id, agent_id, wallet, symbol, closed_at, data)
            SELECT @service, t.organization, t.id, t.agent_id, t.wallet, t.symbol, t.closed_at, t.data
            FROM unnest(@organizations, @ids, @agents, @wallets, @symbols, @closed, @data) AS t(organization, id, agent_id, wallet, symbol, closed_at, data)
            ON CONFLICT (service_id, organization, id) DO NOTHING
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organizations", trades.Select(t => t.Organization).ToArray());
        command.Parameters.AddWithValue("ids", trades.Select(t => t.Id).ToArray());
        command.Parameters.Add(new NpgsqlParameter("agents", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = trades.Select(t => t.AgentId).ToArray() });
        command.Parameters.AddWithValue("wallets", trades.Select(t => HistoryRows.Wallet(t.WalletAddress)).ToArray());
        command.Parameters.AddWithValue("symbols", trades.Select(t => HistoryRows.Symbol(t.Symbol)).ToArray());
        command.Parameters.Add(new NpgsqlParameter("closed", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = trades.Select(t => t.ClosedAt.UtcDateTime).ToArray() });
        command.Parameters.AddWithValue("data", trades.Select(HistoryRows.Data).ToArray());
        await command.ExecuteNonQueryAsync();
    }

    public async Task<HistoryPage> QueryAsync(string organization, HistoryQuery query)
    {
        await using var command = database.CreateCommand(
            $"SELECT data FROM agentdesk_trades WHERE service_id = @service AND organization = @organization{HistoryRows.Where(query, '@')} " +
            "ORDER BY closed_at DESC, id DESC LIMIT @limit");
        Bind(command, organization, query);
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        return HistoryPages.From(await ReadAsync(command), query.Limit);
    }

    public async Task<HistoricalSwap?> GetAsync(string organization, string id)
    {
        await using var command = database.CreateCommand("SELECT data FROM agentdesk_trades WHERE service_id = @service AND organization = @organization AND id = @id");
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        command.Parameters.AddWithValue("id", id);
        return (await ReadAsync(command)).FirstOrDefault();
    }

    public async IAsyncEnumerable<HistoricalSwap> ForAgentAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until)
    {
        var query = new HistoryQuery(AgentId: agentId, From: since, To: until);
        // Ids in ordinal order, as the record compares them ("C": byte order, whatever the database's collation).
        await using var command = database.CreateCommand(
            $"SELECT data FROM agentdesk_trades WHERE service_id = @service AND organization = @organization{HistoryRows.Where(query, '@')} ORDER BY closed_at, id COLLATE \"C\"");
        Bind(command, organization, query);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) yield return HistoryRows.Read(reader.GetString(0));
    }

    public async Task RecordSubscribersAsync(string organization, Guid agentId, DateOnly day, int subscribers)
    {
        await using var command = database.CreateCommand("""
            INSERT INTO agentdesk_subscriber_counts (service_id, organization, agent_id, day, subscribers) VALUES (@service, @organization, @agent, @day, @count)
            ON CONFLICT (service_id, organization, agent_id, day) DO UPDATE SET subscribers = excluded.subscribers
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        command.Parameters.AddWithValue("agent", agentId);
        command.Parameters.AddWithValue("day", day);
        command.Parameters.AddWithValue("count", subscribers);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until)
    {
        await using var command = database.CreateCommand("""
            SELECT day, subscribers FROM agentdesk_subscriber_counts
            WHERE service_id = @service AND organization = @organization AND agent_id = @agent
              AND (@since::date IS NULL OR day >= @since) AND (@until::date IS NULL OR day <= @until)
            ORDER BY day
            """);
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        command.Parameters.AddWithValue("agent", agentId);
        command.Parameters.Add(new NpgsqlParameter("since", NpgsqlDbType.Date) { Value = since is { } s ? s : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("until", NpgsqlDbType.Date) { Value = until is { } u ? u : DBNull.Value });
        var days = new List<DailySubscribers>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) days.Add(new DailySubscribers(reader.GetFieldValue<DateOnly>(0), reader.GetInt32(1)));
        return days;
    }

    private void Bind(NpgsqlCommand command, string organization, HistoryQuery query)
    {
        command.Parameters.AddWithValue("service", ServiceId);
        command.Parameters.AddWithValue("organization", organization);
        if (query.AgentId is { } agent) command.Parameters.AddWithValue("agent", agent);
        if (query.WalletAddress is { } wallet) command.Parameters.AddWithValue("wallet", HistoryRows.Wallet(wallet));
        if (query.Symbol is { } symbol) command.Parameters.AddWithValue("symbol", HistoryRows.Symbol(symbol));
        if (query.From is { } from) command.Parameters.AddWithValue("from", from.UtcDateTime);
        if (query.To is { } to) command.Parameters.AddWithValue("to", to.UtcDateTime);
        if (query.After is { } after)
        {
            command.Parameters.AddWithValue("afterAt", after.ClosedAt.UtcDateTime);
            command.Parameters.AddWithValue("afterId", after.Id);
        }
    }

    private static async Task<List<HistoricalSwap>> ReadAsync(NpgsqlCommand command)
    {
        var trades = new List<HistoricalSwap>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) trades.Add(HistoryRows.Read(reader.GetString(0)));
        return trades;
    }
}
