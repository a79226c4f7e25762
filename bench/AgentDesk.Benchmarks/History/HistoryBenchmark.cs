using System.Diagnostics;
using System.Globalization;
using AgentDesk.Domain.History;
using AgentDesk.Silo.History;
using AgentDesk.Silo.Persistence;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace AgentDesk.Benchmarks.History;

/// <summary>
/// The history read model on PostgreSQL at size: one agent whose 10,000 subscribers trade, AGENTDESK_BENCH_HISTORY_ROWS
/// closed trades (default 2,000,000; the year of 73 million rows does not fit this machine's time budget), then
/// the queries the API runs: the first page, a page 500 pages deep by cursor, one wallet's page, a day's performance.
/// Each query is timed 5 times; the median is the figure, with min and max.
/// </summary>
public static class HistoryBenchmark
{
    private const int Subscribers = 10_000;
    private const int RowsPerAppend = 20_000;

    public static async Task RunAsync()
    {
        var connection = Environment.GetEnvironmentVariable("AGENTDESK_BENCH_POSTGRES")
            ?? throw new InvalidOperationException("AGENTDESK_BENCH_POSTGRES is not set (./bench.sh sets it)");
        var rows = int.Parse(Environment.GetEnvironmentVariable("AGENTDESK_BENCH_HISTORY_ROWS") ?? "2000000", CultureInfo.InvariantCulture);
        await SchemaMigrator.MigratePostgresAsync(connection);
        await using var database = NpgsqlDataSource.Create(connection);
        var service = "bench-history-" + rows.ToString(CultureInfo.InvariantCulture);
        var store = new PostgresHistoryStore(database, Options.Create(new ClusterOptions { ServiceId = service }));
        var agent = Guid.Parse("00000000-0000-0000-0000-00000000a9e1");
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        // 20 trades a day per subscriber: the trades of one year spread evenly.
        var step = TimeSpan.FromDays(365).Ticks / Math.Max(1, rows);

        await using (var count = database.CreateCommand("SELECT count(*) FROM agentdesk_trades WHERE service_id = @s"))
        {
            count.Parameters.AddWithValue("s", service);
            var existing = (long)(await count.ExecuteScalarAsync())!;
            if (existing < rows)
            {
                var load = Stopwatch.StartNew();
                for (var from = (int)existing; from < rows; from += RowsPerAppend)
                {
                    var chunk = Enumerable.Range(from, Math.Min(RowsPerAppend, rows - from)).Select(i => Trade(i, agent, start.AddTicks(step * i))).ToList();
                    await store.AppendAsync(chunk);
                }
                Report.Figure("history.load_rows_per_s", (rows - existing) / load.Elapsed.TotalSeconds, "rows/s");
            }
        }
        await using (var analyze = database.CreateCommand("ANALYZE agentdesk_trades")) await analyze.ExecuteNonQueryAsync();
        Report.Figure("history.rows", rows, "rows");

        var first = await store.QueryAsync("Bench", new HistoryQuery(AgentId: agent));
        var deep = first;
        for (var page = 0; page < 500 && deep.Next is not null; page++) deep = await store.QueryAsync("Bench", new HistoryQuery(AgentId: agent, After: deep.Next));
        var wallet = first.Trades[0].WalletAddress;
        var day = start.AddDays(180);

        await Timed($"history.page_ms_{Label(rows)}_rows", () => store.QueryAsync("Bench", new HistoryQuery(AgentId: agent)));
        await Timed($"history.deep_page_ms_{Label(rows)}_rows", () => store.QueryAsync("Bench", new HistoryQuery(AgentId: agent, After: deep.Next)));
        await Timed($"history.wallet_page_ms_{Label(rows)}_rows", () => store.QueryAsync("Bench", new HistoryQuery(AgentId: agent, WalletAddress: wallet)));
        await Timed($"history.performance_one_day_ms_{Label(rows)}_rows", async () =>
        {
            var record = new PerformanceRecord();
            await foreach (var trade in store.ForAgentAsync("Bench", agent, day, day.AddDays(1))) record.Add(trade);
            return record.Report();
        });
    }

    private static HistoricalSwap Trade(int i, Guid agent, DateTimeOffset closed) => new(
        $"bench-{i:D9}", "Bench", agent, $"0x{i % Subscribers:x40}", i % 3 == 0 ? "ETH" : "SOL", null, "LONG", i % 2 == 0 ? "take_profit" : "stop_loss", null,
        100m, closed.AddMinutes(-30), i % 2 == 0 ? 103m : 97m, closed, 1.5m, 2m, true, i % 2 == 0 ? 4.5m : -4.5m, 0.2m, $"pos-{i}", null, "0xopen", "0xclose");

    private static string Label(int rows) => rows >= 1_000_000 ? $"{rows / 1_000_000}m" : $"{rows / 1_000}k";

    private static async Task Timed<T>(string name, Func<Task<T>> query)
    {
        await query(); // warm the plan and the cache
        var times = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            await query();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }
        Report.Repeated(name, times, "ms");
    }
}
