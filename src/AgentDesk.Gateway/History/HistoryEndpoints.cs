using System.Globalization;
using System.Security.Claims;
using System.Text;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.History;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.History;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Positions;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using AgentDesk.Gateway.Positions;
using AgentDesk.Grains.Options;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace AgentDesk.Gateway.History;

/// <summary>A closed trade as the API shows it; <see cref="RealizedPnlNative"/> uses the native symbol's current price.</summary>
public sealed record HistoricalSwapView(
    string HistoricalSwapId, Guid AgentId, string WalletAddress, string Symbol, string? TokenAddress, string Side, string CloseReason,
    int? LadderIndex, decimal? OpenPrice, decimal? ClosePrice, DateTimeOffset OpenedAt, DateTimeOffset ClosedAt, decimal Size, decimal Leverage,
    bool PositionClosed, decimal RealizedPnlUsd, decimal RealizedPnlNative, decimal FeesUsd, string PositionId, Guid? BatchId,
    string? OpenTransactionHash, string? CloseTransactionHash);

/// <summary>A page of closed trades, newest first; <see cref="NextCursor"/> fetches the next page (null on the last).</summary>
public sealed record HistoricalSwapList(IReadOnlyList<HistoricalSwapView> Trades, string? NextCursor);

/// <summary>An agent's track record over [from, to).</summary>
public sealed record AgentPerformanceView(Guid AgentId, DateTimeOffset? From, DateTimeOffset? To, int SubscribersNow, PerformanceReport Performance,
    IReadOnlyList<DailySubscribers> SubscribersByDay);

/// <summary>
/// Trade history and agent performance, from the history read model (docs/history.md). Everything is scoped to the
/// caller's organisation; with <c>agentId</c>, to that agent's, which must be visible to the caller.
/// </summary>
public static class HistoryEndpoints
{
    public static void MapHistoryEndpoints(this IEndpointRouteBuilder app)
    {
        var history = app.MapGroup("/api/v1/historical-swaps").RequireAuthorization(Policies.Operator).WithTags("History");
        history.MapGet("", ListAsync).WithName("listHistoricalSwaps")
            .WithSummary("Closed trades, newest first: ?agentId= &walletAddress= &symbol= &from= &to= (ISO 8601, close time) &limit= (1 to 1000, default 100) &cursor=; Accept: text/csv for a CSV export of the same query")
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // The same answer as CSV, for Accept: text/csv (the typed result documents only the JSON).
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok.Content is not null)
                    ok.Content["text/csv"] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                return Task.CompletedTask;
            })
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound, Errors.InvalidAddress, Errors.InvalidSymbol, Errors.InvalidQuery, Errors.InvalidCursor);
        history.MapGet("/{historicalSwapId}", GetAsync).WithName("getHistoricalSwap").WithSummary("One closed trade, by the historicalSwapId of its close")
            .ProducesErrors(Errors.SwapNotFound);
        app.MapGroup("/api/v1/agents/{agentId}").RequireAuthorization(Policies.Operator).WithVisibleAgent().WithTags("History")
            .MapGet("/performance", PerformanceAsync).WithName("getAgentPerformance")
            .WithSummary("The agent's track record from its closed trades: ?from= &to= (ISO 8601, close time)")
            .ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound, Errors.InvalidQuery);
    }

    private static async Task<Results<Ok<HistoricalSwapList>, ContentHttpResult, ProblemHttpResult>> ListAsync(string? agentId, string? walletAddress,
        string? symbol, string? from, string? to, string? limit, string? cursor, HttpContext http, ClaimsPrincipal user, IClusterClient cluster,
        IOptions<PriceOptions> prices)
    {
        var organization = user.Organization();
        Guid? agent = null;
        if (agentId is not null)
        {
            var found = await AgentLookup.FindAsync(cluster, user, agentId);
            if (found.Rejection is { } missing) return ApiProblems.For(missing);
            agent = found.Agent!.Id;
            organization = found.Agent.Profile.Organization;
        }
        if (walletAddress is not null && !EthAddress.IsValid(walletAddress)) return Agents.AgentEndpoints.InvalidAddress("walletAddress", walletAddress);
        if (symbol is not null && !Symbols.IsValid(symbol)) return ApiProblems.For(Errors.InvalidSymbol, "symbol must be 1 to 16 letters or digits, such as SOL.");
        if (Range(from, to) is not { } range) return ApiProblems.For(Errors.InvalidQuery, "from and to must be ISO 8601 times (2026-11-01T00:00:00Z), from before to.");
        var size = HistoryQuery.DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > HistoryQuery.MaxLimit))
            return ApiProblems.For(Errors.InvalidQuery, $"limit must be a whole number from 1 to {HistoryQuery.MaxLimit}.");
        HistoryCursor? after = null;
        if (cursor is not null && (after = Cursors.Parse(cursor)) is null)
            return ApiProblems.For(Errors.InvalidCursor, "cursor must be the nextCursor of a previous page.");

        var page = await cluster.GetGrain<ITradeHistoryGrain>(0).QueryAsync(organization,
            new HistoryQuery(agent, walletAddress, symbol, range.From, range.To, after, size));
        var native = await NativePriceAsync(cluster, prices.Value);
        var views = page.Trades.Select(t => View(t, native)).ToList();
        var next = page.Next is null ? null : Cursors.Format(page.Next);
        if (WantsCsv(http))
        {
            // A CSV body has no room for the cursor: the next page's is in a header, for the same query with &cursor=.
            if (next is not null) http.Response.Headers["X-Next-Cursor"] = next;
            return TypedResults.Text(Csv(views), "text/csv; charset=utf-8", Encoding.UTF8);
        }
        return TypedResults.Ok(new HistoricalSwapList(views, next));
    }

    private static async Task<Results<Ok<HistoricalSwapView>, ProblemHttpResult>> GetAsync(string historicalSwapId, ClaimsPrincipal user,
        IClusterClient cluster, IOptions<PriceOptions> prices)
    {
        var trade = ClientIds.IsValid(historicalSwapId) ? await cluster.GetGrain<ITradeHistoryGrain>(0).GetAsync(user.Organization(), historicalSwapId) : null;
        return trade is null
            ? ApiProblems.For(Errors.SwapNotFound, $"Historical swap {AgentLookup.Truncate(historicalSwapId)} does not exist.")
            : TypedResults.Ok(View(trade, await NativePriceAsync(cluster, prices.Value)));
    }

    private static async Task<Results<Ok<AgentPerformanceView>, ProblemHttpResult>> PerformanceAsync(string? from, string? to, HttpContext http,
        IClusterClient cluster)
    {
        if (Range(from, to) is not { } range) return ApiProblems.For(Errors.InvalidQuery, "from and to must be ISO 8601 times (2026-11-01T00:00:00Z), from before to.");
        var agent = http.VisibleAgent();
        var history = cluster.GetGrain<ITradeHistoryGrain>(0);
        var report = await history.PerformanceAsync(agent.Profile.Organization, agent.Id, range.From, range.To);
        // The days are inclusive, and `to` is not: its own day counts only if the range reaches into it.
        var subscribers = await history.SubscribersAsync(agent.Profile.Organization, agent.Id,
            range.From is { } since ? DateOnly.FromDateTime(since.UtcDateTime) : null,
            range.To is { } until ? DateOnly.FromDateTime(until.UtcTicks == 0 ? DateTime.MinValue : until.UtcDateTime.AddTicks(-1)) : null);
        return TypedResults.Ok(new AgentPerformanceView(agent.Id, range.From, range.To, agent.Profile.SubscriberCount, report, subscribers));
    }

    /// <summary>
    /// ISO 8601 only (a date, or a date and time with an optional offset; no offset is UTC). A culture's own forms, such as
    /// 03/04/2026, are refused: read one way they are March, another April.
    /// </summary>
    private static readonly string[] IsoTimes =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ssK",
         "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"];

    private static (DateTimeOffset? From, DateTimeOffset? To)? Range(string? from, string? to)
    {
        DateTimeOffset? start = null, end = null;
        if (from is not null)
        {
            if (!DateTimeOffset.TryParseExact(from, IsoTimes, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return null;
            start = parsed;
        }
        if (to is not null)
        {
            if (!DateTimeOffset.TryParseExact(to, IsoTimes, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return null;
            end = parsed;
        }
        return start is not null && end is not null && start >= end ? null : (start, end);
    }

    private static async Task<decimal> NativePriceAsync(IClusterClient cluster, PriceOptions prices)
    {
        var symbol = prices.NativeSymbol.ToUpperInvariant();
        return (await PositionEndpoints.PricesAsync(cluster, [symbol])).GetValueOrDefault(symbol);
    }

    private static HistoricalSwapView View(HistoricalSwap t, decimal nativePrice) => new(
        t.Id, t.AgentId, t.WalletAddress, t.Symbol, t.TokenAddress, t.Side, t.CloseReason, t.LadderIndex, t.OpenPrice, t.ClosePrice, t.OpenedAt,
        t.ClosedAt, t.Size, t.Leverage, t.PositionClosed, t.RealizedPnlUsd,
        Math.Round(PositionMath.ToNative(t.RealizedPnlUsd, nativePrice), 10, MidpointRounding.ToNegativeInfinity), t.FeesUsd, t.PositionId, t.BatchId,
        t.OpenTransactionHash, t.CloseTransactionHash);

    private static bool WantsCsv(HttpContext http) =>
        http.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));

    private static readonly string[] CsvColumns =
    [
        "historicalSwapId", "agentId", "walletAddress", "symbol", "tokenAddress", "side", "closeReason", "ladderIndex", "openPrice", "closePrice",
        "openedAt", "closedAt", "size", "leverage", "positionClosed", "realizedPnlUsd", "realizedPnlNative", "feesUsd", "positionId", "batchId",
        "openTransactionHash", "closeTransactionHash",
    ];

    /// <summary>The page as CSV (RFC 4180): a header row, then one row per trade, the same fields as the JSON.</summary>
    private static string Csv(IEnumerable<HistoricalSwapView> trades)
    {
        var csv = new StringBuilder().AppendJoin(',', CsvColumns).Append("\r\n");
        foreach (var t in trades)
        {
            object?[] values =
            [
                t.HistoricalSwapId, t.AgentId, t.WalletAddress, t.Symbol, t.TokenAddress, t.Side, t.CloseReason, t.LadderIndex, t.OpenPrice, t.ClosePrice,
                t.OpenedAt.ToString("O", CultureInfo.InvariantCulture), t.ClosedAt.ToString("O", CultureInfo.InvariantCulture), t.Size, t.Leverage,
                t.PositionClosed ? "true" : "false", t.RealizedPnlUsd, t.RealizedPnlNative, t.FeesUsd, t.PositionId, t.BatchId, t.OpenTransactionHash,
                t.CloseTransactionHash,
            ];
            csv.AppendJoin(',', values.Select(Field)).Append("\r\n");
        }
        return csv.ToString();
    }

    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        // Quoted when it holds a separator, a quote or a line break; a leading formula character is neutralised for spreadsheets.
        if (text.Length > 0 && text[0] is '=' or '+' or '@') text = "'" + text;
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }

    /// <summary>Cursors are opaque to clients: the last trade's close time and id, base64url.</summary>
    private static class Cursors
    {
        public static string Format(HistoryCursor cursor) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{cursor.ClosedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{cursor.Id}"))
                .TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public static HistoryCursor? Parse(string cursor)
        {
            if (cursor.Length is 0 or > 512) return null;
            try
            {
                var base64 = cursor.Replace('-', '+').Replace('_', '/');
                base64 = base64.PadRight(base64.Length + (4 - base64.Length % 4) % 4, '=');
                var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64));
                var bar = text.IndexOf('|', StringComparison.Ordinal);
                if (bar <= 0 || !long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                    || ticks > DateTimeOffset.MaxValue.UtcTicks) return null;
                // Trade ids are printable ASCII of at most 128 characters; anything else was not made by this API.
                var id = text[(bar + 1)..];
                if (!ClientIds.IsValid(id)) return null;
                return new HistoryCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
