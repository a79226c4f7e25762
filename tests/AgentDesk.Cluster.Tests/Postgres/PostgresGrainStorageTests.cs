using System.Globalization;
using System.Text.RegularExpressions;
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
        // A row at the highest version there is: the next write's new version does not fit an integer, so PostgreSQL
        // rejects the statement that holds it, which rolls back its batch.
        var full = NewGrain();
        await storage.WriteStateAsync(StateName, full, new GrainState<Balance>(new Balance { FreeUsdc = 1 }));
        Assert.Equal(1, await PostgresCluster.ExecuteAsync(PostgresCluster.ConnectionString,
            "UPDATE OrleansStorage SET Version = 2147483647 WHERE ServiceId = @service AND GrainTypeString = @first AND GrainIdExtensionString = @key",
            ("service", ServiceId), ("first", StateName), ("key", full.Key.ToString())));

        var writes = grains.Select((grain, i) => (Task)storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = i }))).ToList();
        var rejected = storage.WriteStateAsync(StateName, full, new GrainState<Balance>(new Balance { FreeUsdc = -1 }) { ETag = "2147483647", RecordExists = true });
        writes.AddRange(grains.Skip(100).Select(grain => storage.WriteStateAsync(StateName + "-second", grain, new GrainState<Balance>(new Balance { FreeUsdc = 7 }))));
        writes.AddRange(grains.Take(50).Select(grain => storage.ReadStateAsync(StateName + "-second", grain, new GrainState<Balance>())));

        var error = await Assert.ThrowsAsync<PostgresException>(() => rejected);
        Assert.Equal(PostgresErrorCodes.NumericValueOutOfRange, error.SqlState);
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
        var untouched = new GrainState<Balance>();
        await storage.ReadStateAsync(StateName, full, untouched);
        Assert.Equal(("2147483647", 1m), (untouched.ETag, untouched.State!.FreeUsdc));
    }

    [Fact]
    public async Task A_key_too_long_for_its_column_is_refused_before_anything_is_sent()
    {
        await using var storage = SingleConnectionStorage();
        // PostgreSQL would cut the trailing spaces off and file the row under a key no read finds.
        var grain = GrainId.Create("account", "k" + new string(' ', 600));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 1 })));
        Assert.Contains("grain key", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => storage.ReadStateAsync(StateName, grain, new GrainState<Balance>()));
        await Assert.ThrowsAsync<ArgumentException>(() => storage.WriteStateAsync(new string('s', 513), NewGrain(), new GrainState<Balance>(new Balance())));
        // 512 characters fit, even when they take more than 512 UTF-16 units.
        var widest = GrainId.Create("account", string.Concat(Enumerable.Repeat("😀", 512)));
        await storage.WriteStateAsync(StateName, widest, new GrainState<Balance>(new Balance { FreeUsdc = 2 }));
        var read = new GrainState<Balance>();
        await storage.ReadStateAsync(StateName, widest, read);
        Assert.Equal(2, read.State!.FreeUsdc);
    }

    private string ServiceId => Services.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;

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

    /// <summary>
    /// Writes sent together go out as one update and one insert for all their rows; each row must still meet its own version
    /// check. One batch here holds every kind of write: updates at the stored version, updates at a stale one, first writes
    /// of new grains, first writes of rows that exist, two writers of one row, and a read of a row being written; keys of
    /// every form (a string, a Guid, an integer with and without an extension). Sent one statement each, the same writes
    /// must end the same way.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Writes_sent_together_each_keep_their_own_version_check_grouped_or_one_statement_each(bool groupWrites)
    {
        var logger = new RecordingLogger();
        await using var storage = ActivatorUtilities.CreateInstance<PostgresGrainStorage>(Services,
            PostgresCluster.ConnectionString, new Silo.Persistence.JsonGrainStorageSerializer(),
            Options.Create(new PostgresGrainStorageOptions { Connections = 1, GroupWrites = groupWrites }), logger);
        var test = GrainType.Create("test");
        GrainId AnyGrain(int i) => (i % 4) switch
        {
            0 => NewGrain(),
            1 => GrainId.Create(test, GrainIdKeyExtensions.CreateGuidKey(Guid.NewGuid())),
            2 => GrainId.Create(test, GrainIdKeyExtensions.CreateIntegerKey(Random.Shared.NextInt64())),
            _ => GrainId.Create(test, GrainIdKeyExtensions.CreateIntegerKey(Random.Shared.NextInt64(), "ext-" + i)),
        };
        var stored = Enumerable.Range(0, 120).Select(AnyGrain).ToArray();
        foreach (var grain in stored) await storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 1 }));
        var fresh = Enumerable.Range(0, 40).Select(AnyGrain).ToArray();
        logger.Messages.Clear();

        // Queued without waiting, so the one worker takes them together (up to 200 a batch).
        var writes = new List<(GrainId Grain, GrainState<Balance> State, bool ShouldStore, Task<bool> Outcome)>();
        void Send(GrainId grain, decimal value, string? etag, bool shouldStore)
        {
            var state = new GrainState<Balance>(new Balance { FreeUsdc = value }) { ETag = etag, RecordExists = etag is not null };
            writes.Add((grain, state, shouldStore, Attempt(grain, state)));
        }
        for (var i = 0; i < 40; i++) Send(stored[i], 100 + i, "1", shouldStore: true);
        for (var i = 40; i < 80; i++) Send(stored[i], 200 + i, "7", shouldStore: false);
        for (var i = 80; i < 100; i++) Send(stored[i], 300 + i, null, shouldStore: false);
        for (var i = 0; i < 40; i++) Send(fresh[i], 400 + i, null, shouldStore: true);
        // Two activations of one grain holding version 1: the first queued is applied, the second refused.
        for (var i = 100; i < 110; i++)
        {
            Send(stored[i], 500 + i, "1", shouldStore: true);
            Send(stored[i], 600 + i, "1", shouldStore: false);
        }
        // A new activation reading a row another writes in the same batch: it reads the row before or after the write.
        var reads = new List<(GrainState<Balance> State, Task Read)>();
        for (var i = 110; i < 120; i++)
        {
            Send(stored[i], 700 + i, "1", shouldStore: true);
            var read = new GrainState<Balance>();
            reads.Add((read, storage.ReadStateAsync(StateName, stored[i], read)));
        }

        foreach (var (grain, state, shouldStore, outcome) in writes)
        {
            Assert.Equal(shouldStore, await outcome);
            if (!shouldStore) continue;
            // Stored with the version the writer was told: 2 after an update at 1, 1 for a first write.
            Assert.Equal(stored.Contains(grain) ? "2" : "1", state.ETag);
            var read = new GrainState<Balance>();
            await storage.ReadStateAsync(StateName, grain, read);
            Assert.Equal((state.ETag, state.State!.FreeUsdc), (read.ETag, read.State!.FreeUsdc));
        }
        // Nothing refused was stored: the stale and conflicting writes left version 1 and its value.
        for (var i = 40; i < 100; i++)
        {
            var read = new GrainState<Balance>();
            await storage.ReadStateAsync(StateName, stored[i], read);
            Assert.Equal(("1", 1m), (read.ETag, read.State!.FreeUsdc));
        }
        for (var r = 0; r < reads.Count; r++)
        {
            await reads[r].Read;
            Assert.Contains((reads[r].State.ETag, reads[r].State.State!.FreeUsdc), new (string?, decimal)[] { ("1", 1m), ("2", 810m + r) });
        }
        // What went out: grouped updates and first writes when grouping is on, none when it is off.
        var grouped = logger.Messages.Select(message => Regex.Match(message, @"(\d+) updates and (\d+) first writes grouped"))
            .Where(match => match.Success).Select(match => (Updates: int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), Inserts: int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture))).ToList();
        Assert.NotEmpty(grouped);
        if (groupWrites) Assert.Contains(grouped, batch => batch.Updates > 1 && batch.Inserts > 1);
        else Assert.All(grouped, batch => Assert.Equal((0, 0), batch));

        async Task<bool> Attempt(GrainId grain, GrainState<Balance> state)
        {
            try
            {
                await storage.WriteStateAsync(StateName, grain, state);
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// Grouped statements missing (a silo started before script 007 was applied) or refused by PostgreSQL for what they are
    /// (here an update edited to name a column that does not exist): the silo writes one statement each, and says so.
    /// </summary>
    [Theory]
    [InlineData("missing", "no grouped write statements")]
    [InlineData("refused", "refused a grouped grain-state write statement")]
    public async Task A_silo_without_working_grouped_statements_writes_one_statement_each_and_says_so(string schema, string said)
    {
        // A database of its own: the shared one's catalogue is in use by every other test.
        var database = "gst_schema_" + Guid.NewGuid().ToString("N")[..8];
        await PostgresCluster.ExecuteAsync(PostgresCluster.ConnectionString, $"CREATE DATABASE {database}");
        var connectionString = new NpgsqlConnectionStringBuilder(PostgresCluster.ConnectionString) { Database = database, Pooling = false }.ConnectionString;
        try
        {
            await Silo.Persistence.SchemaMigrator.MigratePostgresAsync(connectionString);
            Assert.Equal(schema == "missing" ? 2 : 1, await PostgresCluster.ExecuteAsync(connectionString, schema == "missing"
                ? "DELETE FROM OrleansQuery WHERE QueryKey LIKE 'AgentDesk.%ManyIn%Storage%'"
                : "UPDATE OrleansQuery SET QueryText = replace(QueryText, 's.Version + 1', 's.NoSuchColumn + 1') WHERE QueryKey = 'AgentDesk.UpdateManyInStorageKey'"));
            var logger = new RecordingLogger();
            await using var storage = ActivatorUtilities.CreateInstance<PostgresGrainStorage>(Services, connectionString,
                new Silo.Persistence.JsonGrainStorageSerializer(),
                Options.Create(new PostgresGrainStorageOptions { Connections = 1, CatalogueRecheck = TimeSpan.FromSeconds(1) }), logger);

            var grains = Enumerable.Range(0, 100).Select(_ => NewGrain()).ToArray();
            var states = grains.Select((_, i) => new GrainState<Balance>(new Balance { FreeUsdc = i })).ToArray();
            await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync(StateName, grain, states[i])));
            foreach (var state in states) state.State!.FreeUsdc += 1000;
            await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync(StateName, grain, states[i])));

            for (var i = 0; i < grains.Length; i++)
            {
                var read = new GrainState<Balance>();
                await storage.ReadStateAsync(StateName, grains[i], read);
                Assert.Equal(("2", 1000m + i), (read.ETag, read.State!.FreeUsdc));
            }
            Assert.Single(logger.Messages, message => message.Contains(said, StringComparison.Ordinal));
            // Grouped updates went out only where PostgreSQL refused them (then the batch went again one statement each).
            Assert.Equal(schema == "refused", logger.Messages.Any(GroupedBatch));
            logger.Messages.Clear();

            if (schema == "missing")
            {
                // A look at the catalogue that fails (here the table is gone for a moment) changes nothing: the
                // statements in hand still write, one each, and the next look is a recheck later.
                await PostgresCluster.ExecuteAsync(connectionString, "ALTER TABLE OrleansQuery RENAME TO OrleansQueryAway");
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                var during = Enumerable.Range(0, 20).Select(_ => NewGrain()).ToArray();
                await Task.WhenAll(during.Select(grain => storage.WriteStateAsync(StateName, grain, new GrainState<Balance>(new Balance { FreeUsdc = 5 }))));
                Assert.Contains(logger.Messages, message => message.Contains("Looking for the grouped write statements in OrleansQuery failed", StringComparison.Ordinal));
                await PostgresCluster.ExecuteAsync(connectionString, "ALTER TABLE OrleansQueryAway RENAME TO OrleansQuery");
            }

            // The migration catches up (the missing statements written, the edited one restored). A silo that found the
            // statements missing finds them within its recheck and groups its writes; one that had one refused does not
            // try again until it restarts.
            await Silo.Persistence.SchemaMigrator.MigratePostgresAsync(connectionString);
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            foreach (var state in states) state.State!.FreeUsdc += 1000;
            await Task.WhenAll(grains.Select((grain, i) => storage.WriteStateAsync(StateName, grain, states[i])));
            Assert.Equal(schema == "missing", logger.Messages.Any(GroupedBatch));
            Assert.Equal(schema == "missing", logger.Messages.Any(message => message.Contains("now has the grouped write statements", StringComparison.Ordinal)));
            for (var i = 0; i < grains.Length; i++)
            {
                var read = new GrainState<Balance>();
                await storage.ReadStateAsync(StateName, grains[i], read);
                Assert.Equal(("3", 2000m + i), (read.ETag, read.State!.FreeUsdc));
            }
        }
        finally
        {
            await PostgresCluster.ExecuteAsync(PostgresCluster.ConnectionString, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    /// <summary>A batch that sent grouped updates, from the provider's debug log.</summary>
    private static bool GroupedBatch(string message) =>
        Regex.Match(message, @"(\d+) updates and \d+ first writes grouped") is { Success: true } match && match.Groups[1].Value != "0";

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

        // Cleared rows keep their version, and a read of one gives a fresh state and no record, from either provider.
        var again = new GrainState<Balance>();
        await batched.ReadStateAsync(StateName, grain, again);
        Assert.Equal(4, again.State!.FreeUsdc);
        await batched.ClearStateAsync(StateName, grain, again);
        Assert.Equal(("3", false), (again.ETag, again.RecordExists));
        var cleared = new GrainState<Balance>();
        await batched.ReadStateAsync(StateName, grain, cleared);
        Assert.Equal((0m, "3", false), (cleared.State!.FreeUsdc, cleared.ETag, cleared.RecordExists));
        Assert.Equal((0m, "3", false), await ReadRowAsync(adoNet, grain));

        // Clearing it again, holding no version, changes nothing.
        var clearedAgain = new GrainState<Balance>();
        await batched.ClearStateAsync(StateName, grain, clearedAgain);
        Assert.Equal(("3", false), (clearedAgain.ETag, clearedAgain.RecordExists));

        // The next write names the cleared version and stores the next one; a clear still holding the cleared version is
        // then refused rather than wiping that write.
        cleared.State.FreeUsdc = 9;
        await batched.WriteStateAsync(StateName, grain, cleared);
        await Assert.ThrowsAsync<InconsistentStateException>(() => batched.ClearStateAsync(StateName, grain, clearedAgain));
        Assert.Equal((9m, "4", true), await ReadRowAsync(adoNet, grain));

        // A clear holding nothing clears a stored row at the version it reads, and leaves a missing one missing.
        var clearedFresh = new GrainState<Balance>();
        await batched.ClearStateAsync(StateName, grain, clearedFresh);
        Assert.Equal(("5", false), (clearedFresh.ETag, clearedFresh.RecordExists));
        Assert.Equal((0m, "5", false), await ReadRowAsync(adoNet, grain));
        var missing = new GrainState<Balance>();
        await batched.ClearStateAsync(StateName, NewGrain(), missing);
        Assert.Equal(((string?)null, false), (missing.ETag, missing.RecordExists));
    }

    /// <summary>What <paramref name="storage"/> reads of the grain's balance row: the balance, its version and whether it holds a record.</summary>
    private static async Task<(decimal FreeUsdc, string? ETag, bool RecordExists)> ReadRowAsync(IGrainStorage storage, GrainId grain)
    {
        var row = new GrainState<Balance>();
        await storage.ReadStateAsync(StateName, grain, row);
        return (row.State!.FreeUsdc, row.ETag, row.RecordExists);
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
