using AgentDesk.Contracts.Common;
using AgentDesk.Silo.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>
/// The batched PostgreSQL grain storage against the real server: operations sent together keep their own outcome
/// (a version conflict or a rejected statement fails only its own operation), and rows are interchangeable with the
/// ADO.NET provider's, which earlier releases wrote.
/// </summary>
public sealed class PostgresGrainStorageTests : IAsyncLifetime
{
    public sealed class Balance
    {
        public decimal FreeUsdc { get; set; }
    }

    private const string StateName = "storage-test-balance";
    private InProcessTestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await PostgresCluster.StartAsync("gst-" + Guid.NewGuid().ToString("N")[..8], batchedGrainStorage: true);

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private IServiceProvider Services => _cluster.Silos[0].ServiceProvider;

    /// <summary>One worker, so everything queued while it is busy goes out in the same batch.</summary>
    private PostgresGrainStorage SingleConnectionStorage(RecordingLogger? logger = null) => ActivatorUtilities.CreateInstance<PostgresGrainStorage>(Services,
        PostgresCluster.ConnectionString, new Silo.Persistence.JsonGrainStorageSerializer(),
        Options.Create(new PostgresGrainStorageOptions { Connections = 1 }), logger ?? new RecordingLogger());

    private static GrainId NewGrain() => GrainId.Create("account", GrainKeys.Account("Gst", Testing.TestData.NewAddress()));

    [Fact]
    public async Task A_statement_PostgreSQL_rejects_fails_only_its_own_write_and_every_write_sent_with_it_is_stored()
    {
        var logger = new RecordingLogger();
        await using var storage = SingleConnectionStorage(logger);
        var grains = Enumerable.Range(0, 200).Select(_ => NewGrain()).ToArray();

        // A state name longer than the column allows: PostgreSQL rejects that statement, which rolls back its batch.
        var tooLong = new string('x', 600);
        var writes = grains.Select((grain, i) => (Task)storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = i }))).ToList();
        var rejected = storage.WriteStateAsync(tooLong, grains[0], new GrainState<Balance>(new Balance { FreeUsdc = -1 }));
        writes.AddRange(grains.Skip(100).Select(grain => storage.WriteStateAsync(StateName + "-second", grain, new GrainState<Balance>(new Balance { FreeUsdc = 7 }))));
        writes.AddRange(grains.Take(50).Select(grain => storage.ReadStateAsync(StateName + "-second", grain, new GrainState<Balance>())));

        var error = await Assert.ThrowsAsync<PostgresException>(() => rejected);
        Assert.Equal(PostgresErrorCodes.StringDataRightTruncation, error.SqlState);
        await Task.WhenAll(writes);
        // The rejected write went out with others (so their batch was rolled back and each was sent again alone).
        Assert.Contains(logger.Messages, message => message.Contains("rejected a batch", StringComparison.Ordinal));

        for (var i = 0; i < grains.Length; i++)
        {
            var stored = new GrainState<Balance>();
            await storage.ReadStateAsync(StateName, grains[i], stored);
            Assert.True(stored.RecordExists);
            Assert.Equal(i, stored.State!.FreeUsdc);
            Assert.Equal("1", stored.ETag);
        }
    }

    [Fact]
    public async Task After_the_server_ends_every_pooled_session_the_next_reads_and_writes_succeed_on_new_ones()
    {
        var applicationName = "gst-stale-" + Guid.NewGuid().ToString("N")[..8];
        var logger = new RecordingLogger();
        await using var storage = ActivatorUtilities.CreateInstance<PostgresGrainStorage>(Services,
            PostgresCluster.ConnectionString + ";Application Name=" + applicationName, new Silo.Persistence.JsonGrainStorageSerializer(),
            Options.Create(new PostgresGrainStorageOptions()), logger);
        var grains = Enumerable.Range(0, 300).Select(_ => NewGrain()).ToArray();
        await Task.WhenAll(grains.Select(grain => storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 1 }))));

        // What a PostgreSQL restart does to the pool: every idle session is ended by the server.
        Assert.True(await TerminateSessionsAsync(applicationName) > 0);

        var states = grains.Select(_ => new GrainState<Balance>()).ToArray();
        await Task.WhenAll(grains.Select((grain, i) => storage.ReadStateAsync(StateName, grain, states[i])));
        Assert.All(states, state => Assert.Equal(1, state.State!.FreeUsdc));
        foreach (var state in states) state.State!.FreeUsdc = 2;
        Assert.True(await TerminateSessionsAsync(applicationName) > 0);
        await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync(StateName, grain, states[i])));
        Assert.All(states, state => Assert.Equal("2", state.ETag));
        Assert.Contains(logger.Messages, message => message.Contains("was lost", StringComparison.Ordinal));
    }

    private static async Task<long> TerminateSessionsAsync(string applicationName)
    {
        await using var admin = new NpgsqlConnection(PostgresCluster.ConnectionString);
        await admin.OpenAsync();
        await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @name", admin);
        kill.Parameters.AddWithValue("name", applicationName);
        var terminated = (long)(await kill.ExecuteScalarAsync())!;
        // pg_terminate_backend only signals: wait until the sessions are gone.
        await using var left = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = @name", admin);
        left.Parameters.AddWithValue("name", applicationName);
        for (var i = 0; i < 50 && (long)(await left.ExecuteScalarAsync())! > 0; i++) await Task.Delay(20);
        return terminated;
    }

    [Fact]
    public async Task Sessions_killed_while_writes_are_in_flight_never_leave_a_write_reported_stored_that_is_not()
    {
        var applicationName = "gst-kill-" + Guid.NewGuid().ToString("N")[..8];
        await using var storage = ActivatorUtilities.CreateInstance<PostgresGrainStorage>(Services,
            PostgresCluster.ConnectionString + ";Application Name=" + applicationName, new Silo.Persistence.JsonGrainStorageSerializer(),
            Options.Create(new PostgresGrainStorageOptions()), new RecordingLogger());

        // Waves of writes for two seconds while PostgreSQL terminates this provider's sessions every 150 ms.
        var writes = new List<Task<(GrainId Grain, int Value, string? ETag)>>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var killed = 0L;
        var killer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(150);
                killed += await TerminateSessionsAsync(applicationName);
            }
        });
        var value = 0;
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < 100; i++) writes.Add(WriteAsync(NewGrain(), ++value));
            await Task.Delay(20);
        }
        await killer;
        var outcomes = await Task.WhenAll(writes);

        // Not vacuous: sessions were ended under the writes, and writes got through.
        Assert.True(killed > 0);
        Assert.Contains(outcomes, outcome => outcome.ETag is not null);
        // Every write reported stored is stored, with its own value and the version it was told. (Read through a
        // provider of its own: the pool above may still hold a session the last kill ended.)
        await using var verifier = SingleConnectionStorage();
        foreach (var (grain, expected, etag) in outcomes.Where(outcome => outcome.ETag is not null))
        {
            var stored = new GrainState<Balance>();
            await verifier.ReadStateAsync(StateName, grain, stored);
            Assert.True(stored.RecordExists);
            Assert.Equal(expected, stored.State!.FreeUsdc);
            Assert.Equal(etag, stored.ETag);
        }

        async Task<(GrainId, int, string?)> WriteAsync(GrainId grain, int written)
        {
            var state = new GrainState<Balance>(new Balance { FreeUsdc = written });
            try
            {
                await storage.WriteStateAsync(StateName, grain, state);
                return (grain, written, state.ETag);
            }
            catch (Exception failed) when (failed is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return (grain, written, null);
            }
        }
    }

    [Fact]
    public async Task Two_writers_of_one_version_sent_together_store_exactly_one_of_them()
    {
        await using var storage = SingleConnectionStorage();
        var grains = Enumerable.Range(0, 50).Select(_ => NewGrain()).ToArray();
        foreach (var grain in grains) await storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 100 }));

        // Each grain has two activations holding version 1 (a split brain); both write at once.
        var races = grains.Select(async grain =>
        {
            var first = new GrainState<Balance>();
            var second = new GrainState<Balance>();
            await storage.ReadStateAsync(StateName, grain, first);
            await storage.ReadStateAsync(StateName, grain, second);
            first.State!.FreeUsdc = 10;
            second.State!.FreeUsdc = 40;
            var outcomes = await Task.WhenAll(Attempt(first), Attempt(second));
            return (grain, outcomes);

            async Task<bool> Attempt(GrainState<Balance> state)
            {
                try { await storage.WriteStateAsync(StateName, grain, state); return true; }
                catch (InconsistentStateException) { return false; }
            }
        });

        foreach (var (grain, outcomes) in await Task.WhenAll(races))
        {
            Assert.Single(outcomes, won => won);
            var stored = new GrainState<Balance>();
            await storage.ReadStateAsync(StateName, grain, stored);
            Assert.Equal("2", stored.ETag);
            Assert.Equal(outcomes[0] ? 10 : 40, stored.State!.FreeUsdc);
        }
    }

    [Fact]
    public async Task Rows_written_by_the_ADO_NET_provider_are_read_and_written_by_this_one_and_the_reverse()
    {
        var batched = Services.GetRequiredKeyedService<IGrainStorage>(Grains.Infrastructure.StorageNames.Provider);
        Assert.IsType<PostgresGrainStorage>(batched);
        var adoNet = await StartAdoNetStorageAsync();
        // A string key, an integer key with an extension, and a Guid key: the three ways a row is filed.
        GrainId[] grains =
        [
            NewGrain(),
            GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateIntegerKey(42, "ext-" + Guid.NewGuid().ToString("N")[..6])),
            GrainId.Create(GrainType.Create("test"), GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid())),
        ];

        foreach (var grain in grains)
        {
            await adoNet.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 100 }));

            var read = new GrainState<Balance>();
            await batched.ReadStateAsync(StateName, grain, read);
            Assert.True(read.RecordExists);
            Assert.Equal(100, read.State!.FreeUsdc);
            Assert.Equal("1", read.ETag);

            read.State!.FreeUsdc = 60;
            await batched.WriteStateAsync(StateName, grain, read);

            var back = new GrainState<Balance>();
            await adoNet.ReadStateAsync(StateName, grain, back);
            Assert.Equal(60, back.State!.FreeUsdc);
            Assert.Equal("2", back.ETag);

            // Versions mean the same to both: a stale writer is refused whichever provider it uses.
            var stale = new GrainState<Balance>(new Balance { FreeUsdc = 999 }) { ETag = "1", RecordExists = true };
            await Assert.ThrowsAsync<InconsistentStateException>(() => batched.WriteStateAsync(StateName, grain, stale));
            await Assert.ThrowsAsync<InconsistentStateException>(() => adoNet.WriteStateAsync(StateName, grain, stale));
        }

        // The hashes stored beside the key match too: this provider files a second state of each grain, and the
        // ADO.NET provider that state of one more grain. A grain's rows share its id hash; a state's rows its type hash.
        const string SecondState = StateName + "-second";
        foreach (var grain in grains) await batched.WriteStateAsync(SecondState, grain, new GrainState<Balance>(new Balance()));
        await adoNet.WriteStateAsync(SecondState, NewGrain(), new GrainState<Balance>(new Balance()));
        var service = Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        Assert.Equal(grains.Length, await CountAsync("""
            SELECT count(*) FROM (
                SELECT 1 FROM OrleansStorage WHERE ServiceId = @service AND GrainTypeString IN (@first, @second)
                GROUP BY GrainIdN0, GrainIdN1, GrainIdExtensionString
                HAVING count(*) = 2 AND count(DISTINCT GrainIdHash) = 1) grains
            """, service, SecondState));
        Assert.Equal(1, await CountAsync(
            "SELECT count(DISTINCT GrainTypeHash) FROM OrleansStorage WHERE ServiceId = @service AND GrainTypeString = @second AND @first IS NOT NULL",
            service, SecondState));
    }

    private static async Task<long> CountAsync(string sql, string service, string second)
    {
        await using var connection = new NpgsqlConnection(PostgresCluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("service", service);
        command.Parameters.AddWithValue("first", StateName);
        command.Parameters.AddWithValue("second", second);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task A_new_grain_to_this_one_inserts_rows_the_ADO_NET_provider_reads_with_the_same_hashes()
    {
        var batched = Services.GetRequiredKeyedService<IGrainStorage>(Grains.Infrastructure.StorageNames.Provider);
        var adoNet = await StartAdoNetStorageAsync();
        var grain = NewGrain();
        await batched.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 5 }));

        var read = new GrainState<Balance>();
        await adoNet.ReadStateAsync(StateName, grain, read);
        Assert.Equal(5, read.State!.FreeUsdc);
        read.State!.FreeUsdc = 4;
        await adoNet.WriteStateAsync(StateName, grain, read);

        // Cleared rows keep their version, and a read of one gives a fresh state.
        var again = new GrainState<Balance>();
        await batched.ReadStateAsync(StateName, grain, again);
        Assert.Equal(4, again.State!.FreeUsdc);
        await batched.ClearStateAsync(StateName, grain, again);
        Assert.False(again.RecordExists);
        var cleared = new GrainState<Balance>();
        await batched.ReadStateAsync(StateName, grain, cleared);
        Assert.Equal(0, cleared.State!.FreeUsdc);
        Assert.Equal("3", cleared.ETag);
    }

    [Fact]
    public async Task Large_states_are_stored_compressed_with_lz4_and_applying_the_schema_again_keeps_it()
    {
        var batched = Services.GetRequiredKeyedService<IGrainStorage>(Grains.Infrastructure.StorageNames.Provider);
        var grain = NewGrain();
        // A payload past PostgreSQL's compression threshold (about 2 KB): thousands of similar JSON entries.
        var large = new GrainState<Dictionary<string, decimal>>(Enumerable.Range(0, 2000).ToDictionary(i => "entry-" + i, i => (decimal)i));
        await batched.WriteStateAsync(StateName, grain, large);
        await Silo.Persistence.SchemaMigrator.MigratePostgresAsync(PostgresCluster.ConnectionString);

        var service = Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        await using var connection = new NpgsqlConnection(PostgresCluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pg_column_compression(PayloadBinary) FROM OrleansStorage WHERE ServiceId = @service AND GrainTypeString = @type", connection);
        command.Parameters.AddWithValue("service", service);
        command.Parameters.AddWithValue("type", StateName);
        Assert.Equal("lz4", await command.ExecuteScalarAsync());

        var read = new GrainState<Dictionary<string, decimal>>();
        await batched.ReadStateAsync(StateName, grain, read);
        Assert.Equal(1999m, read.State!["entry-1999"]);
    }

    /// <summary>The ADO.NET provider as earlier releases ran it, started the way a silo starts it.</summary>
    private async Task<IGrainStorage> StartAdoNetStorageAsync()
    {
        var storage = new AdoNetGrainStorage(
            Services.GetRequiredService<Orleans.Serialization.Serializers.IActivatorProvider>(),
            NullLogger<AdoNetGrainStorage>.Instance,
            Options.Create(new AdoNetGrainStorageOptions
            {
                Invariant = "Npgsql",
                ConnectionString = PostgresCluster.ConnectionString,
                GrainStorageSerializer = new Silo.Persistence.JsonGrainStorageSerializer(),
            }),
            Services.GetRequiredService<IOptions<ClusterOptions>>(),
            "legacy");
        var lifecycle = new StartOnlyLifecycle();
        storage.Participate(lifecycle);
        await lifecycle.StartAsync();
        return storage;
    }

    public sealed class RecordingLogger : ILogger<PostgresGrainStorage>
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }

    private sealed class StartOnlyLifecycle : ISiloLifecycle
    {
        private readonly List<ILifecycleObserver> _observers = [];

        public int HighestCompletedStage => 0;

        public int LowestStoppedStage => 0;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add(observer);
            return new NoUnsubscribe();
        }

        public async Task StartAsync()
        {
            foreach (var observer in _observers) await observer.OnStart(CancellationToken.None);
        }

        private sealed class NoUnsubscribe : IDisposable
        {
            public void Dispose() { }
        }
    }
}
