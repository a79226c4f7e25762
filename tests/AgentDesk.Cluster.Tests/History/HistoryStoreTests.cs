using AgentDesk.Domain.History;
using AgentDesk.Grains.History;
using AgentDesk.Silo.History;
using AgentDesk.Silo.Persistence;
using AgentDesk.Testing;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace AgentDesk.Cluster.Tests.History;

/// <summary>
/// The history store's contract on each engine: a real SQLite file and the real PostgreSQL ./test.sh starts (schema
/// scripts applied), and memory. Appends are idempotent; pages are newest first, filtered, and continue exactly after
/// their cursor; organisations and services never mix.
/// </summary>
public abstract class HistoryStoreContract
{
    protected abstract Task<IHistoryStore> StoreAsync(string serviceId);

    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);
    private static readonly Guid AgentA = Guid.Parse("aaaaaaaa-0000-0000-0000-000000000001");
    private static readonly Guid AgentB = Guid.Parse("bbbbbbbb-0000-0000-0000-000000000002");

    private static HistoricalSwap Trade(string id, int minute, Guid? agent = null, string wallet = "0xAbC0000000000000000000000000000000000001",
        string symbol = "SOL", string organization = "Org") =>
        new(id, organization, agent ?? AgentA, wallet, symbol, null, "LONG", "stop_loss", null, 100m, T0, 95.123456789012345678m,
            T0.AddMinutes(minute).AddTicks(1_230), 1.5m, 2m, true, -7.654321m, 0.2m, "p-" + id, null, "0xopen", "0xclose");

    private static async Task<List<string>> AllPagesAsync(IHistoryStore store, HistoryQuery query)
    {
        var ids = new List<string>();
        for (var page = await store.QueryAsync("Org", query); ; page = await store.QueryAsync("Org", query with { After = page.Next }))
        {
            ids.AddRange(page.Trades.Select(t => t.Id));
            if (page.Next is null) return ids;
        }
    }

    [Fact]
    public async Task A_trade_appended_twice_is_stored_once_and_reads_back_whole()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        await store.AppendAsync([Trade("a", 1), Trade("b", 2)]);
        await store.AppendAsync([Trade("b", 2), Trade("a", 1), Trade("c", 3)]);

        Assert.Equal(["c", "b", "a"], (await store.QueryAsync("Org", new HistoryQuery())).Trades.Select(t => t.Id));
        Assert.Equal(Trade("a", 1), await store.GetAsync("Org", "a"));
        Assert.Null(await store.GetAsync("Org", "missing"));
        Assert.Null(await store.GetAsync("Other", "a"));
    }

    [Fact]
    public async Task Pages_follow_the_cursor_newest_first_with_ties_on_close_time_broken_by_id()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        // Three trades close at the same instant: the id orders them.
        await store.AppendAsync([Trade("t1", 1), Trade("t2", 2), Trade("t3b", 3), Trade("t3a", 3), Trade("t3c", 3), Trade("t4", 4)]);
        Assert.Equal(["t4", "t3c", "t3b", "t3a", "t2", "t1"], await AllPagesAsync(store, new HistoryQuery(Limit: 2)));
        Assert.Equal(["t4", "t3c", "t3b", "t3a", "t2", "t1"], await AllPagesAsync(store, new HistoryQuery(Limit: 1)));
        var first = await store.QueryAsync("Org", new HistoryQuery(Limit: 6));
        Assert.Null(first.Next);
    }

    [Fact]
    public async Task Filters_by_agent_wallet_symbol_and_close_time_and_keeps_organisations_and_services_apart()
    {
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(service);
        var neighbour = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        await store.AppendAsync([
            Trade("a", 1), Trade("b", 2, agent: AgentB), Trade("c", 3, wallet: "0x0000000000000000000000000000000000000002"),
            Trade("d", 4, symbol: "ETH"), Trade("e", 5, organization: "Org2")]);
        await neighbour.AppendAsync([Trade("z", 1)]);

        async Task<string[]> Ids(HistoryQuery query) => (await store.QueryAsync("Org", query)).Trades.Select(t => t.Id).ToArray();
        Assert.Equal(["d", "c", "a"], await Ids(new HistoryQuery(AgentId: AgentA)));
        Assert.Equal(["d", "b", "a"], await Ids(new HistoryQuery(WalletAddress: "0xabc0000000000000000000000000000000000001")));
        Assert.Equal(["d"], await Ids(new HistoryQuery(Symbol: "eth")));
        Assert.Equal(["c", "b"], await Ids(new HistoryQuery(From: T0.AddMinutes(2), To: T0.AddMinutes(4))));
        Assert.Equal(["e"], (await store.QueryAsync("Org2", new HistoryQuery())).Trades.Select(t => t.Id));
        Assert.Equal(["z"], (await neighbour.QueryAsync("Org", new HistoryQuery())).Trades.Select(t => t.Id));

        Assert.Equal(["a", "c", "d"], (await store.ForAgentAsync("Org", AgentA, null, null).ToListAsync()).Select(t => t.Id));
        Assert.Equal(["c"], (await store.ForAgentAsync("Org", AgentA, T0.AddMinutes(2), T0.AddMinutes(4)).ToListAsync()).Select(t => t.Id));
    }

    [Fact]
    public async Task Daily_subscriber_counts_keep_the_last_record_of_each_day_per_agent()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        var day = new DateOnly(2026, 11, 20);
        await store.RecordSubscribersAsync("Org", AgentA, day, 1);
        await store.RecordSubscribersAsync("Org", AgentA, day, 2);
        await store.RecordSubscribersAsync("Org", AgentA, day.AddDays(1), 1);
        await store.RecordSubscribersAsync("Org", AgentA, day.AddDays(3), 7);
        await store.RecordSubscribersAsync("Org", AgentB, day, 9);
        await store.RecordSubscribersAsync("Org2", AgentA, day, 9);

        Assert.Equal([new DailySubscribers(day, 2), new DailySubscribers(day.AddDays(1), 1), new DailySubscribers(day.AddDays(3), 7)],
            await store.SubscribersAsync("Org", AgentA, null, null));
        Assert.Equal([new DailySubscribers(day.AddDays(1), 1)], await store.SubscribersAsync("Org", AgentA, day.AddDays(1), day.AddDays(2)));
    }
}

public sealed class SqliteHistoryStoreTests : HistoryStoreContract, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "agentdesk-history-" + Guid.NewGuid().ToString("N")[..8]);

    protected override async Task<IHistoryStore> StoreAsync(string serviceId)
    {
        var connection = Silo.Configuration.SiloConfiguration.SqliteConnectionString(_folder);
        await SchemaMigrator.MigrateSqliteAsync(connection);
        return new SqliteHistoryStore(new SqliteConnectionSource(connection), Options.Create(new ClusterOptions { ServiceId = serviceId }));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class PostgresHistoryStoreTests : HistoryStoreContract, IAsyncDisposable
{
    private readonly NpgsqlDataSource _database = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);

    protected override async Task<IHistoryStore> StoreAsync(string serviceId)
    {
        await SchemaMigrator.MigratePostgresAsync(TestEnvironment.PostgresConnectionString);
        return new PostgresHistoryStore(_database, Options.Create(new ClusterOptions { ServiceId = serviceId }));
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}

public sealed class MemoryHistoryStoreTests : HistoryStoreContract
{
    protected override Task<IHistoryStore> StoreAsync(string serviceId) => Task.FromResult<IHistoryStore>(new MemoryHistoryStore());
}
