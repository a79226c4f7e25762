using AgentDesk.Contracts.Events;
using AgentDesk.Grains.Events;
using AgentDesk.Silo.Events;
using AgentDesk.Silo.Persistence;
using AgentDesk.Testing;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace AgentDesk.Cluster.Tests.Events;

/// <summary>
/// The event store's contract, on each engine: a real SQLite file and the real PostgreSQL ./test.sh starts (both with the
/// project's schema scripts applied), and memory.
/// </summary>
public abstract class EventStoreContract
{
    protected abstract Task<IEventStore> StoreAsync(string serviceId);

    private static readonly DateTimeOffset T0 = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    private static EventRecord Event(long id, string key, string organization = "Org", DateTimeOffset? at = null, Guid? agent = null) =>
        new(id, organization, key, "position.exited", agent, agent is null ? null : "0xabc", agent is null ? null : "SOL", at ?? T0, $$"""{"n":{{id}},"pnl":-12.345678901234567890}""");

    [Fact]
    public async Task Appends_store_each_source_key_once_and_reads_page_by_id()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        var agent = Guid.NewGuid();
        var at = T0.AddTicks(1_234_560); // microsecond precision survives every engine
        var first = await store.AppendAsync("Org", [Event(1, "a", agent: agent, at: at), Event(2, "b"), Event(3, "c")]);
        Assert.Equal([1L, 2L, 3L], first.Select(e => e.Id));
        // A re-send of b and c among new events: only the new ones are stored, and their ids may leave gaps.
        var second = await store.AppendAsync("Org", [Event(4, "b"), Event(5, "d"), Event(6, "c"), Event(7, "e")]);
        Assert.Equal([5L, 7L], second.Select(e => e.Id));
        Assert.Equal(7, await store.LastIdAsync("Org"));
        Assert.Equal(0, await store.LastIdAsync("Other"));

        var all = await store.ReadAsync("Org", 0, 100);
        Assert.Equal(["a", "b", "c", "d", "e"], all.Select(e => e.SourceKey));
        Assert.Equal(Event(1, "a", agent: agent, at: at), all[0]);
        Assert.Equal(Event(2, "b"), all[1]);
        Assert.Equal(["c", "d"], (await store.ReadAsync("Org", 2, 2)).Select(e => e.SourceKey));
        Assert.Empty(await store.ReadAsync("Org", 7, 10));
        Assert.Empty(await store.ReadAsync("Other", 0, 10));
    }

    [Fact]
    public async Task An_id_taken_by_another_writer_fails_the_whole_append()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        await store.AppendAsync("Org", [Event(1, "a")]);
        await Assert.ThrowsAnyAsync<Exception>(() => store.AppendAsync("Org", [Event(2, "x"), Event(1, "y")]));
        Assert.Equal(["a"], (await store.ReadAsync("Org", 0, 10)).Select(e => e.SourceKey));
    }

    [Fact]
    public async Task Thousands_of_events_go_in_one_append_and_organisations_and_services_do_not_mix()
    {
        var service = "svc-" + Guid.NewGuid().ToString("N")[..8];
        var store = await StoreAsync(service);
        var other = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        var many = Enumerable.Range(1, 2_500).Select(i => Event(i, $"k{i}")).ToList();
        Assert.Equal(2_500, (await store.AppendAsync("Org", many)).Count);
        await store.AppendAsync("Org2", [Event(1, "k1", "Org2")]);
        await other.AppendAsync("Org", [Event(1, "k1")]);
        Assert.Equal(2_500, await store.LastIdAsync("Org"));
        Assert.Equal(1_000, (await store.ReadAsync("Org", 1_500, 5_000)).Count);
        Assert.Equal(["Org2"], (await store.ReadAsync("Org2", 0, 10)).Select(e => e.Organization));
        Assert.Single(await other.ReadAsync("Org", 0, 10));
    }

    [Fact]
    public async Task Pruning_deletes_what_happened_before_the_cutoff_in_this_service_only_and_keeps_each_organisations_newest()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        var neighbour = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        await store.AppendAsync("Org", [Event(1, "old", at: T0.AddDays(-8)), Event(2, "new", at: T0)]);
        await store.AppendAsync("Org2", [Event(1, "older", "Org2", at: T0.AddDays(-10)), Event(2, "old", "Org2", at: T0.AddDays(-9))]);
        await neighbour.AppendAsync("Org", [Event(1, "old", at: T0.AddDays(-8))]);

        Assert.Equal(2, await store.PruneAsync(T0.AddDays(-7)));
        Assert.Equal(["new"], (await store.ReadAsync("Org", 0, 10)).Select(e => e.SourceKey));
        // Org2 was idle past the retention window: its newest event stays, so its next event is numbered 3, never 1 again.
        Assert.Equal(["old"], (await store.ReadAsync("Org2", 0, 10)).Select(e => e.SourceKey));
        Assert.Equal(2, await store.LastIdAsync("Org2"));
        Assert.Single(await neighbour.ReadAsync("Org", 0, 10));
        Assert.Equal(0, await store.PruneAsync(T0.AddDays(-7)));
    }

    [Fact]
    public async Task Pruning_events_of_mixed_ages_keeps_the_rest_in_id_order_and_lets_a_pruned_source_key_be_stored_again()
    {
        var store = await StoreAsync("svc-" + Guid.NewGuid().ToString("N")[..8]);
        // An organisation with nothing to prune comes first, and is left as it was.
        var recent = new[] { Event(1, "r1", "Org1", at: T0), Event(2, "r2", "Org1", at: T0) };
        await store.AppendAsync("Org1", recent);
        // Every third event is past the cutoff: grains stamp their events before the log numbers them, so ages interleave.
        var events = Enumerable.Range(1, 3_001).Select(i => Event(i, $"k{i}", at: i % 3 == 0 ? T0.AddDays(-8) : T0)).ToList();
        await store.AppendAsync("Org", events);

        Assert.Equal(1_000, await store.PruneAsync(T0.AddDays(-7)));
        Assert.Equal(recent, await store.ReadAsync("Org1", 0, 10));
        var kept = new List<EventRecord>();
        var after = 0L;
        while (await store.ReadAsync("Org", after, 700) is { Count: > 0 } page)
        {
            kept.AddRange(page);
            after = page[^1].Id;
        }
        Assert.Equal(events.Where(e => e.Id % 3 != 0), kept);
        Assert.Equal(3_001, await store.LastIdAsync("Org"));

        var again = await store.AppendAsync("Org", [Event(3_002, "k3"), Event(3_003, "k4")]);
        Assert.Equal([3_002L], again.Select(e => e.Id));
        Assert.Equal(["k3"], (await store.ReadAsync("Org", 3_001, 10)).Select(e => e.SourceKey));
    }
}

public sealed class SqliteEventStoreTests : EventStoreContract, IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "agentdesk-events-" + Guid.NewGuid().ToString("N")[..8]);

    protected override async Task<IEventStore> StoreAsync(string serviceId)
    {
        var connection = Silo.Configuration.SiloConfiguration.SqliteConnectionString(_folder);
        await SchemaMigrator.MigrateSqliteAsync(connection);
        return new SqliteEventStore(new SqliteConnectionSource(connection), Options.Create(new ClusterOptions { ServiceId = serviceId }));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}

public sealed class PostgresEventStoreTests : EventStoreContract, IAsyncDisposable
{
    private readonly NpgsqlDataSource _database = NpgsqlDataSource.Create(TestEnvironment.PostgresConnectionString);

    protected override async Task<IEventStore> StoreAsync(string serviceId)
    {
        await SchemaMigrator.MigratePostgresAsync(TestEnvironment.PostgresConnectionString);
        return new PostgresEventStore(_database, Options.Create(new ClusterOptions { ServiceId = serviceId }));
    }

    public ValueTask DisposeAsync() => _database.DisposeAsync();
}

public sealed class MemoryEventStoreTests : EventStoreContract
{
    protected override Task<IEventStore> StoreAsync(string serviceId) => Task.FromResult<IEventStore>(new MemoryEventStore());
}
