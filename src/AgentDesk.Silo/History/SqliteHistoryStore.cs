using System.Text;
using AgentDesk.Domain.History;
using AgentDesk.Grains.History;
using AgentDesk.Silo.Persistence;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace AgentDesk.Silo.History;

/// <summary>Closed trades in the single-node SQLite file (table <c>agentdesk_trades</c>, deploy/sql/sqlite/004_history.sql).</summary>
public sealed class SqliteHistoryStore(SqliteConnectionSource connections, IOptions<ClusterOptions> cluster) : IHistoryStore
{
    /// <summary>Rows per INSERT statement: 8 parameters each, well under SQLite's limit of 32,766.</summary>
    private const int RowsPerStatement = 500;

    private string ServiceId => cluster.Value.ServiceId;

    public async Task AppendAsync(IReadOnlyList<HistoricalSwap> trades)
    {
        if (trades.Count == 0) return;
        await using var connection = await connections.OpenAsync();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        foreach (var chunk in trades.Chunk(RowsPerStatement))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var sql = new StringBuilder("INSERT INTO agentdesk_trades (service_id, organization, id, agent_id, wallet, symbol, closed_at, data) VALUES ");
            command.Parameters.AddWithValue("$service", ServiceId);
            for (var i = 0; i < chunk.Length; i++)
            {
                var t = chunk[i];
                if (i > 0) sql.Append(',');
                sql.Append(System.Globalization.CultureInfo.InvariantCulture, $"($service, $org{i}, $id{i}, $agent{i}, $wallet{i}, $symbol{i}, $closed{i}, $data{i})");
                command.Parameters.AddWithValue($"$org{i}", t.Organization);
                command.Parameters.AddWithValue($"$id{i}", t.Id);
                command.Parameters.AddWithValue($"$agent{i}", t.AgentId.ToString("D"));
                command.Parameters.AddWithValue($"$wallet{i}", HistoryRows.Wallet(t.WalletAddress));
                command.Parameters.AddWithValue($"$symbol{i}", HistoryRows.Symbol(t.Symbol));
                command.Parameters.AddWithValue($"$closed{i}", t.ClosedAt.UtcTicks);
                command.Parameters.AddWithValue($"$data{i}", HistoryRows.Data(t));
            }
            sql.Append(" ON CONFLICT (service_id, organization, id) DO NOTHING");
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    public async Task<HistoryPage> QueryAsync(string organization, HistoryQuery query)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT data FROM agentdesk_trades WHERE service_id = $service AND organization = $organization{HistoryRows.Where(query, '$')} " +
            "ORDER BY closed_at DESC, id DESC LIMIT $limit";
        Bind(command, organization, query);
        command.Parameters.AddWithValue("$limit", query.Limit + 1);
        return HistoryPages.From(await ReadAsync(command), query.Limit);
    }

    public async Task<HistoricalSwap?> GetAsync(string organization, string id)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM agentdesk_trades WHERE service_id = $service AND organization = $organization AND id = $id";
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        command.Parameters.AddWithValue("$id", id);
        return (await ReadAsync(command)).FirstOrDefault();
    }

    public async IAsyncEnumerable<HistoricalSwap> ForAgentAsync(string organization, Guid agentId, DateTimeOffset? since, DateTimeOffset? until)
    {
        var query = new HistoryQuery(AgentId: agentId, From: since, To: until);
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        // SQLite compares text in byte order (BINARY), as the record does.
        command.CommandText = $"SELECT data FROM agentdesk_trades WHERE service_id = $service AND organization = $organization{HistoryRows.Where(query, '$')} ORDER BY closed_at, id";
        Bind(command, organization, query);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) yield return HistoryRows.Read(reader.GetString(0));
    }

    public async Task RecordSubscribersAsync(string organization, Guid agentId, DateOnly day, int subscribers)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO agentdesk_subscriber_counts (service_id, organization, agent_id, day, subscribers) VALUES ($service, $organization, $agent, $day, $count)
            ON CONFLICT (service_id, organization, agent_id, day) DO UPDATE SET subscribers = excluded.subscribers
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        command.Parameters.AddWithValue("$agent", agentId.ToString("D"));
        command.Parameters.AddWithValue("$day", day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$count", subscribers);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<DailySubscribers>> SubscribersAsync(string organization, Guid agentId, DateOnly? since, DateOnly? until)
    {
        await using var connection = await connections.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT day, subscribers FROM agentdesk_subscriber_counts
            WHERE service_id = $service AND organization = $organization AND agent_id = $agent AND day >= $since AND day <= $until
            ORDER BY day
            """;
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        command.Parameters.AddWithValue("$agent", agentId.ToString("D"));
        command.Parameters.AddWithValue("$since", (since ?? DateOnly.MinValue).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        command.Parameters.AddWithValue("$until", (until ?? DateOnly.MaxValue).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        var days = new List<DailySubscribers>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            days.Add(new DailySubscribers(DateOnly.ParseExact(reader.GetString(0), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), reader.GetInt32(1)));
        return days;
    }

    private void Bind(SqliteCommand command, string organization, HistoryQuery query)
    {
        command.Parameters.AddWithValue("$service", ServiceId);
        command.Parameters.AddWithValue("$organization", organization);
        if (query.AgentId is { } agent) command.Parameters.AddWithValue("$agent", agent.ToString("D"));
        if (query.WalletAddress is { } wallet) command.Parameters.AddWithValue("$wallet", HistoryRows.Wallet(wallet));
        if (query.Symbol is { } symbol) command.Parameters.AddWithValue("$symbol", HistoryRows.Symbol(symbol));
        if (query.From is { } from) command.Parameters.AddWithValue("$from", from.UtcTicks);
        if (query.To is { } to) command.Parameters.AddWithValue("$to", to.UtcTicks);
        if (query.After is { } after)
        {
            command.Parameters.AddWithValue("$afterAt", after.ClosedAt.UtcTicks);
            command.Parameters.AddWithValue("$afterId", after.Id);
        }
    }

    private static async Task<List<HistoricalSwap>> ReadAsync(SqliteCommand command)
    {
        var trades = new List<HistoricalSwap>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) trades.Add(HistoryRows.Read(reader.GetString(0)));
        return trades;
    }
}
