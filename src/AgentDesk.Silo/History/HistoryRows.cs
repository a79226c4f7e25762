using System.Globalization;
using System.Text;
using System.Text.Json;
using AgentDesk.Domain.History;

namespace AgentDesk.Silo.History;

/// <summary>What the database stores of a trade: the filter columns and the whole row as JSON; and the query's WHERE clause.</summary>
internal static class HistoryRows
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Data(HistoricalSwap trade) => JsonSerializer.Serialize(trade, Json);

    public static HistoricalSwap Read(string data) => JsonSerializer.Deserialize<HistoricalSwap>(data, Json)!;

    public static string Wallet(string wallet) => wallet.ToLowerInvariant();

    public static string Symbol(string symbol) => symbol.ToUpperInvariant();

    /// <summary>
    /// The conditions of a query after the service and organisation, with parameter names prefixed by
    /// <paramref name="p"/> (<c>@</c> or <c>$</c>); the caller binds the parameters the query uses.
    /// </summary>
    public static string Where(HistoryQuery query, char p)
    {
        var sql = new StringBuilder();
        if (query.AgentId is not null) sql.Append(CultureInfo.InvariantCulture, $" AND agent_id = {p}agent");
        if (query.WalletAddress is not null) sql.Append(CultureInfo.InvariantCulture, $" AND wallet = {p}wallet");
        if (query.Symbol is not null) sql.Append(CultureInfo.InvariantCulture, $" AND symbol = {p}symbol");
        if (query.From is not null) sql.Append(CultureInfo.InvariantCulture, $" AND closed_at >= {p}from");
        if (query.To is not null) sql.Append(CultureInfo.InvariantCulture, $" AND closed_at < {p}to");
        // Newest first by (closed_at, id): the next page is everything strictly after the cursor in that order. A row-value
        // comparison, so the index range scan starts at the cursor instead of filtering from the newest row.
        if (query.After is not null) sql.Append(CultureInfo.InvariantCulture, $" AND (closed_at, id) < ({p}afterAt, {p}afterId)");
        return sql.ToString();
    }
}
