using System.Text.Json;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using Orleans.Runtime;
using AgentDesk.Grains.Batches;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Prices;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Postgres;

/// <summary>Durability with grain state and reminders in a real PostgreSQL (failover with killed processes: the Integration tests).</summary>
public sealed class PostgresTests
{
    private static string NewServiceId() => "test-" + Guid.NewGuid().ToString("N")[..12];

    /// <remarks>
    /// Both grain-state providers read and write the same rows: the cluster is stopped under one and started under the
    /// other (and under the same one), as an operator switching <c>BatchedGrainStorage</c> would, with no migration.
    /// </remarks>
    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task After_a_graceful_stop_and_start_of_the_whole_cluster_agents_accounts_positions_and_batches_are_back_and_exits_still_fire(
        bool batchedBefore, bool batchedAfter)
    {
        var serviceId = NewServiceId();
        Guid agent, batchId;
        string rich, poor, symbol;
        await using (var first = await PostgresCluster.StartAsync(serviceId, batchedGrainStorage: batchedBefore))
        {
            var world = new Scenario(first.Client);
            symbol = world.Symbol;
            agent = await world.AgentAsync();
            rich = await world.AccountAsync(1000m, agent);
            poor = await world.AccountAsync(6m, agent);
            await world.PriceAsync(100m);
            batchId = (await world.BatchOpenAsync(agent, weight: 50, leverage: 2, stopLoss: 80m)).BatchId;
            await first.StopAllSilosAsync();
        }

        await using var second = await PostgresCluster.StartAsync(serviceId, batchedGrainStorage: batchedAfter);
        var again = new Scenario(second.Client);
        Assert.NotNull(await again.Agent(agent).GetProfileAsync());
        Assert.Equal(2, (await again.Agent(agent).GetProfileAsync())!.SubscriberCount);
        var account = (await again.Account(rich).GetAsync())!;
        Assert.Equal(500m, account.FreeUsdc);
        Assert.Equal(500m, account.LockedUsdc);
        var batch = (await second.Client.GetGrain<IBatchGrain>(batchId).GetAsync())!;
        Assert.Equal(BatchStatus.Completed, batch.Status);
        Assert.Equal(1, batch.Successful);
        Assert.Equal(Errors.BelowMinTradeSize, batch.Results.Single(r => r.Account == poor).Problem!.Code);
        var position = second.Client.GetGrain<IPositionGrain>(GrainKeys.Position(agent, rich, symbol));
        Assert.Equal(PositionStatus.Open, (await position.GetAsync())!.Status);

        // The exit index survived too: a tick through the stop closes the position in the new cluster.
        await second.Client.GetGrain<Contracts.Prices.IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(79m, DateTimeOffset.UtcNow);
        var closed = await Eventually.WaitForAsync(() => position.GetAsync(), p => p!.Status == PositionStatus.Closed, TimeSpan.FromSeconds(20), "stop-loss after restart");
        Assert.Equal("stop_loss", closed!.CloseReason);
        await Eventually.WaitForAsync(() => again.Account(rich).GetAsync(), a => a!.LockedUsdc == 0m, TimeSpan.FromSeconds(20), "settlement");
    }

    /// <remarks>
    /// Pages of two, one subscriber at a time and a slow venue, so that checkpoints store pages after pages: five outcomes
    /// are two pages in rows of their own and one in the batch's row. Beside it, a batch stored before pages (every outcome
    /// in its own row) reads as it did. Both grain-state providers, which write and read the same rows.
    /// </remarks>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_batch_stores_its_outcomes_in_pages_of_their_own_and_reads_every_one_back_after_a_restart(bool batchedGrainStorage)
    {
        var serviceId = NewServiceId();
        var (batchId, storedBefore) = (Guid.NewGuid(), Guid.NewGuid());
        string poor;
        BatchResult opened;
        BatchStepOutcome[] before;
        await using (var first = await PostgresCluster.StartAsync(serviceId, venueDelay: TimeSpan.FromMilliseconds(600), batchParallelism: 1,
                         batchedGrainStorage: batchedGrainStorage, outcomesPerPage: 2))
        {
            var world = new Scenario(first.Client);
            var agent = await world.AgentAsync();
            for (var i = 0; i < 4; i++) await world.AccountAsync(100m + i, agent);
            poor = await world.AccountAsync(6m, agent);
            await world.PriceAsync(100m);
            opened = await world.BatchOpenAsync(agent, weight: 50, leverage: 2, batchId: batchId);
            Assert.Equal(5, opened.Results.Count);

            before = [.. opened.Results.Take(3)];
            var storage = first.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);
            await storage.WriteStateAsync(StorageNames.Batch, first.Client.GetGrain<IBatchGrain>(storedBefore).GetGrainId(), new GrainState<BatchState>(
                new BatchState
                {
                    Kind = BatchKind.Open, Open = new BatchOpenRequest(agent, world.Symbol, Side.Long, 50, 2, 0, 0, 0, 0), Organization = world.Organization,
                    Status = BatchStatus.Completed, Symbol = world.Symbol, Subscribers = before.Length,
                    Outcomes = before.ToDictionary(o => o.Account),
                }));
            await first.StopAllSilosAsync();
        }
        // As a release before pages stored it: no page keys at all.
        Assert.Equal(1, await PostgresCluster.ExecuteAsync(PostgresCluster.ConnectionString, """
            UPDATE orleansstorage SET payloadbinary = convert_to(replace(convert_from(payloadbinary, 'UTF8'), ',"outcomePages":[]', ''), 'UTF8')
            WHERE serviceid = @service AND graintypestring = 'batch' AND convert_from(payloadbinary, 'UTF8') LIKE '%"subscribers":3,%'
            """, ("service", serviceId)));

        var rows = await BatchRowsAsync(serviceId, batchId);
        var header = rows.Single(r => r.State == StorageNames.Batch).Json;
        var pageKeys = header.GetProperty("outcomePages").EnumerateArray().Select(k => k.GetString()).ToList();
        Assert.Equal(2, pageKeys.Count);
        var stored = pageKeys
            .SelectMany(key => rows.Single(r => r.State == StorageNames.BatchOutcomes && r.Extension == key).Json.GetProperty("outcomes").EnumerateArray())
            .Select(o => o.GetProperty("account").GetString())
            .Concat(header.GetProperty("outcomes").EnumerateObject().Select(o => o.Name))
            .ToList();
        Assert.Equal(opened.Results.Select(r => r.Account), stored);
        // Stored by two checkpoints, a second apart, not by one write at the end.
        var written = pageKeys.Select(key => rows.Single(r => r.Extension == key).ModifiedOn).ToList();
        Assert.True(written[1] - written[0] >= TimeSpan.FromMilliseconds(500), $"pages written at {written[0]:O} and {written[1]:O}");

        await using var second = await PostgresCluster.StartAsync(serviceId, batchedGrainStorage: batchedGrainStorage, outcomesPerPage: 2);
        var again = (await second.Client.GetGrain<IBatchGrain>(batchId).GetAsync())!;
        Assert.Equal(BatchStatus.Completed, again.Status);
        Assert.Equal((4, 1), (again.Successful, again.Failed));
        Assert.Equal(opened.Results.Select(Summary), again.Results.Select(Summary));
        Assert.Equal(Errors.BelowMinTradeSize, again.Results.Single(r => r.Account == poor).Problem!.Code);
        var old = (await second.Client.GetGrain<IBatchGrain>(storedBefore).GetAsync())!;
        Assert.Equal(before.Select(Summary), old.Results.Select(Summary));
        await second.StopAllSilosAsync();

        // A page its row names, gone behind the cluster's back: the batch refuses to load rather than answer without it.
        Assert.Equal(1, await PostgresCluster.ExecuteAsync(PostgresCluster.ConnectionString,
            "DELETE FROM orleansstorage WHERE serviceid = @service AND grainidextensionstring = @key", ("service", serviceId), ("key", pageKeys[1]!)));
        await using var third = await PostgresCluster.StartAsync(serviceId, batchedGrainStorage: batchedGrainStorage, outcomesPerPage: 2);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => third.Client.GetGrain<IBatchGrain>(batchId).GetAsync());
        Assert.Contains(pageKeys[1]!, refused.ToString(), StringComparison.Ordinal);

        static (string, bool, string?, string?, Domain.Common.ErrorCode?) Summary(BatchStepOutcome r) => (r.Account, r.Success, r.PositionId, r.Transaction?.Hash, r.Problem?.Code);
    }

    /// <summary>A batch's rows (its own and its pages), their JSON parsed.</summary>
    private static async Task<List<(string State, string? Extension, DateTime ModifiedOn, JsonElement Json)>> BatchRowsAsync(string serviceId, Guid batchId)
    {
        var halves = batchId.ToByteArray();
        await using var connection = new NpgsqlConnection(PostgresCluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT graintypestring, grainidextensionstring, modifiedon, payloadbinary FROM orleansstorage
            WHERE serviceid = @service AND grainidn0 = @n0 AND grainidn1 = @n1
            """, connection);
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("n0", BitConverter.ToInt64(halves, 0));
        command.Parameters.AddWithValue("n1", BitConverter.ToInt64(halves, 8));
        var rows = new List<(string, string?, DateTime, JsonElement)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetDateTime(2), JsonDocument.Parse((byte[])reader[3]).RootElement.Clone()));
        return rows;
    }

    [Fact]
    public async Task Positions_registering_on_one_exit_index_page_at_once_are_all_stored_and_all_fire_after_a_restart()
    {
        // The page is reentrant and shares one write among the watches that arrive together (group commit): each watch
        // must still be in PostgreSQL when it is answered.
        const int Crowd = 120;
        var serviceId = NewServiceId();
        Guid agent;
        string symbol;
        List<string> accounts;
        await using (var first = await PostgresCluster.StartAsync(serviceId))
        {
            var world = new Scenario(first.Client);
            symbol = world.Symbol;
            agent = await world.AgentAsync();
            var page = ExitIndex.PageOf(GrainKeys.Position(agent, TestData.NewAddress(), symbol));
            accounts = Enumerable.Range(0, int.MaxValue).Select(_ => TestData.NewAddress())
                .Where(a => ExitIndex.PageOf(GrainKeys.Position(agent, a, symbol)) == page).Take(Crowd).ToList();
            foreach (var address in accounts)
            {
                var account = world.Account(address);
                await account.CreateAsync();
                Assert.True((await account.DepositAsync("seed", 100m)).IsSuccess);
                Assert.True((await world.Agent(agent).SubscribeAsync(address)).IsSuccess);
            }
            await world.PriceAsync(100m);
            Assert.Equal(Crowd, (await world.BatchOpenAsync(agent, weight: 50, leverage: 2, stopLoss: 80m)).Successful);
            await first.StopAllSilosAsync();
        }

        // Only the stored page can reach the positions now: the accounts are watched, never the positions, since activating
        // a position re-registers it and would hide a lost watch.
        await using var second = await PostgresCluster.StartAsync(serviceId);
        var again = new Scenario(second.Client);
        await second.Client.GetGrain<Contracts.Prices.IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(79m, DateTimeOffset.UtcNow);
        foreach (var address in accounts)
            await Eventually.WaitForAsync(() => again.Account(address).GetAsync(), a => a!.LockedUsdc == 0m, TimeSpan.FromSeconds(30), "stop-loss settled");
        foreach (var address in accounts)
            Assert.Equal("stop_loss", (await second.Client.GetGrain<IPositionGrain>(GrainKeys.Position(agent, address, symbol)).GetAsync())!.CloseReason);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Thousands_of_concurrent_watches_are_all_stored_while_the_pages_keep_changing(bool batchedGrainStorage)
    {
        // Once every pooled connection is busy, Orleans' ADO.NET provider serialises a page's part on another thread, after its
        // connection opens, while later watches change the page: each write must store a copy, or serialising fails ("collection
        // was modified") and the watches waiting on it fail. All 256 pages with 1,000 watches in flight exhaust the pool. The
        // batched provider serialises in the caller's turn; it runs the same load.
        await using var cluster = await PostgresCluster.StartAsync(NewServiceId(), batchedGrainStorage: batchedGrainStorage);
        var symbol = TestData.NewSymbol();
        var pages = Enumerable.Range(0, Contracts.Prices.IExitWatchGrain.PagesPerSymbol).Select(p => cluster.Client.GetGrain<Contracts.Prices.IExitWatchGrain>(GrainKeys.ExitWatch(symbol, p))).ToArray();
        var keys = Enumerable.Range(0, 20_000).Select(i => $"pos:{Guid.NewGuid()}:0x{i:x40}:{symbol}").ToArray();
        Contracts.Prices.WatchEnvelope EnvelopeOf(int i) => new(90m - i % 50, null);
        // A steady stream rather than one burst, so watches keep arriving while each write serialises.
        using var inFlight = new SemaphoreSlim(1_000);
        var watches = keys.Select(async (key, i) =>
        {
            await inFlight.WaitAsync();
            try { await pages[i % pages.Length].WatchAsync(key, EnvelopeOf(i)); }
            finally { inFlight.Release(); }
        }).ToList();
        await Task.WhenAll(watches);

        // Every answered watch is in PostgreSQL, in the part of its page a reactivated page reads.
        var storage = cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<Orleans.Storage.IGrainStorage>(StorageNames.Provider);
        var stored = new Dictionary<(int Page, string Key), Contracts.Prices.WatchEnvelope>();
        for (var page = 0; page < pages.Length; page++)
        {
            var own = new GrainState<ExitWatchState>(new ExitWatchState());
            await storage.ReadStateAsync(StorageNames.ExitWatch, pages[page].GetGrainId(), own);
            for (var part = 0; part < ExitIndex.PartsPerPage; part++)
            {
                if ((own.State!.StoredParts & (1u << part)) == 0) continue;
                var row = new GrainState<ExitWatchPart>(new ExitWatchPart());
                await storage.ReadStateAsync(StorageNames.ExitWatchPart(part), pages[page].GetGrainId(), row);
                foreach (var (key, envelope) in row.State!.Positions)
                {
                    Assert.Equal(part, ExitIndex.PartOf(key));
                    stored[(page, key)] = envelope;
                }
            }
        }
        Assert.Equal(keys.Length, stored.Count);
        for (var i = 0; i < keys.Length; i++) Assert.Equal(EnvelopeOf(i), stored[(i % pages.Length, keys[i])]);
    }
}
