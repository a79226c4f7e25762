using System.Diagnostics;
using System.Text.Json;
using AgentDesk.Benchmarks.Cluster;
using AgentDesk.Silo.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;
using Orleans.Storage;

namespace AgentDesk.Benchmarks.Fanout;

/// <summary>
/// The grain-state writes of a batch-open on their own: a subscriber's account and position rows (the real ones the timed
/// batches just stored), written for every subscriber (10,000 by default) by the batched provider with its writes grouped into one update and
/// one insert per round trip, and with one statement per write as Orleans' ADO.NET provider sends them. The two alternate,
/// each on rows of its own, after a first round that inserts them.
/// </summary>
internal static class PostgresWrites
{
    private const int Rounds = 5;
    private const int InFlight = 2_000;

    /// <summary>Each way's time for every round after the first.</summary>
    public sealed record Times(List<double> Grouped, List<double> OneStatementEach)
    {
        public void Report()
        {
            var grouped = Benchmarks.Report.Repeated(FanoutBenchmark.Named("fanout.postgres_writes_20k_grouped"), Grouped, "ms");
            var oneEach = Benchmarks.Report.Repeated(FanoutBenchmark.Named("fanout.postgres_writes_20k_one_statement_each"), OneStatementEach, "ms");
            Benchmarks.Report.Figure(FanoutBenchmark.Named("fanout.postgres_writes_grouped_vs_one_statement_each"), grouped / oneEach, "x");
        }
    }

    public static async Task<Times> MeasureAsync(IServiceProvider silo, string connectionString)
    {
        var serviceId = silo.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId;
        var account = await LatestRowAsync(connectionString, serviceId, "account");
        var position = await LatestRowAsync(connectionString, serviceId, "position");

        var grouped = new Writer(silo, connectionString, serviceId + "-grouped", groupWrites: true);
        var oneEach = new Writer(silo, connectionString, serviceId + "-one-each", groupWrites: false);
        await using (grouped.Storage)
        await using (oneEach.Storage)
        {
            await grouped.RoundAsync(account, position);
            await oneEach.RoundAsync(account, position);
            var groupedTimes = new List<double>();
            var oneEachTimes = new List<double>();
            for (var round = 0; round < Rounds; round++)
            {
                // Alternating which goes first, so neither always meets the other's autovacuum.
                if (round % 2 == 0)
                {
                    groupedTimes.Add(await grouped.RoundAsync(account, position));
                    oneEachTimes.Add(await oneEach.RoundAsync(account, position));
                }
                else
                {
                    oneEachTimes.Add(await oneEach.RoundAsync(account, position));
                    groupedTimes.Add(await grouped.RoundAsync(account, position));
                }
            }
            await DeleteRowsAsync(connectionString, grouped.ServiceId, oneEach.ServiceId);
            return new Times(groupedTimes, oneEachTimes);
        }
    }

    /// <summary>The rows the two ways wrote: four per subscriber a run, which would otherwise grow the table for later runs.</summary>
    private static async Task DeleteRowsAsync(string connectionString, params string[] serviceIds)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var command = database.CreateCommand("DELETE FROM OrleansStorage WHERE ServiceId = ANY(@services)");
        command.Parameters.AddWithValue("services", serviceIds);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<JsonElement> LatestRowAsync(string connectionString, string serviceId, string stateName)
    {
        await using var database = NpgsqlDataSource.Create(connectionString);
        await using var command = database.CreateCommand(
            "SELECT PayloadBinary FROM OrleansStorage WHERE ServiceId = @service AND GrainTypeString = @state ORDER BY ModifiedOn DESC LIMIT 1");
        command.Parameters.AddWithValue("service", serviceId);
        command.Parameters.AddWithValue("state", stateName);
        var payload = (byte[])(await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"the batches stored no {stateName} row"));
        return JsonDocument.Parse(payload).RootElement.Clone();
    }

    private sealed class Writer
    {
        private readonly GrainId[] _grains = Enumerable.Range(0, FanoutBenchmark.Subscribers).Select(i => GrainId.Create("bench", $"subscriber-{i}")).ToArray();
        private readonly (GrainState<JsonElement> Account, GrainState<JsonElement> Position)[] _states =
            Enumerable.Range(0, FanoutBenchmark.Subscribers).Select(_ => (new GrainState<JsonElement>(), new GrainState<JsonElement>())).ToArray();

        // The silo's logger: a schema without the grouped statements makes the grouped writer warn (and write one each).
        public Writer(IServiceProvider silo, string connectionString, string serviceId, bool groupWrites)
        {
            ServiceId = serviceId;
            Storage = ActivatorUtilities.CreateInstance<PostgresGrainStorage>(silo, connectionString, new Silo.Persistence.JsonGrainStorageSerializer(),
                Options.Create(new ClusterOptions { ServiceId = serviceId, ClusterId = serviceId }),
                Options.Create(new PostgresGrainStorageOptions { GroupWrites = groupWrites }));
        }

        public string ServiceId { get; }

        public PostgresGrainStorage Storage { get; }

        /// <summary>Every subscriber's account then position written, as a batch-open writes them; the time until all are stored.</summary>
        public async Task<double> RoundAsync(JsonElement account, JsonElement position)
        {
            var watch = Stopwatch.StartNew();
            await BenchCluster.ForEachAsync(Enumerable.Range(0, _grains.Length), InFlight, async i =>
            {
                _states[i].Account.State = account;
                await Storage.WriteStateAsync("account", _grains[i], _states[i].Account);
                _states[i].Position.State = position;
                await Storage.WriteStateAsync("position", _grains[i], _states[i].Position);
            });
            return watch.Elapsed.TotalMilliseconds;
        }
    }
}
