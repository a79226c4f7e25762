using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans.Configuration;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Grain state on PostgreSQL, with the reads and writes that arrive together sent together. When thousands of
/// grains activate and write at once (a batch fanned out to every subscriber), one statement per round trip leaves
/// the silo waiting on the network and PostgreSQL committing one tiny transaction at a time. Here a few workers each
/// take every operation waiting in the queue (up to <see cref="PostgresGrainStorageOptions.MaxBatchSize"/>) and send
/// them as one <see cref="NpgsqlBatch"/>: one round trip, one commit. Under light load a worker is idle and an
/// operation goes out alone at once, so batching adds no wait.
/// <para>
/// Rows and rules are the ADO.NET provider's: the same <c>OrleansStorage</c> table, key columns and hashes, and the
/// statements are read from the same <c>OrleansQuery</c> catalogue, so rows written by either provider are read by
/// the other, and every write still carries the version it read (optimistic concurrency, per row). The writes of a batch
/// go out as one update and one insert for all their rows (<see cref="BatchPlan"/>), two statements of the catalogue's
/// own that the ADO.NET provider does not use.
/// </para>
/// <para>
/// A batch runs in one implicit transaction. A version conflict is not an error (a single-row write returns the
/// caller's own version; a grouped one returns no row for it), so it refuses only its own write. A statement PostgreSQL rejects for its data rolls the whole batch
/// back; each operation of that batch is then sent again on its own, so only the operation at fault fails. Any other
/// failure (a broken connection, a server shutting down, a timeout) fails every operation of its batch, as it would
/// have failed each of them one by one; re-sending them one by one would only add load to a database in trouble. The
/// exception is a lost session (a restarted server leaves every pooled connection dead): the pool is emptied and the
/// batch sent once more, which the per-row versions make safe.
/// An operation that waited in the queue longer than <see cref="PostgresGrainStorageOptions.QueueTimeout"/> fails
/// unsent, so a database that stops answering makes grain calls fail rather than pile up.
/// </para>
/// </summary>
public sealed partial class PostgresGrainStorage : IGrainStorage, IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly IActivatorProvider _activators;
    private readonly ILogger<PostgresGrainStorage> _logger;
    private readonly IGrainStorageSerializer _serializer;
    private readonly PostgresGrainStorageOptions _options;
    private readonly string _serviceId;
    private readonly Channel<Operation> _queue = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Task[] _workers;
    private readonly SemaphoreSlim _catalogueLock = new(1, 1);
    private Statements? _statements;
    // 1 once PostgreSQL refused the grouped statements: this provider writes one statement each from then on.
    private int _groupedWritesRefused;

    public PostgresGrainStorage(
        string connectionString,
        IGrainStorageSerializer serializer,
        IActivatorProvider activators,
        IOptions<ClusterOptions> cluster,
        IOptions<PostgresGrainStorageOptions> options,
        ILogger<PostgresGrainStorage> logger)
    {
        _serializer = serializer;
        _activators = activators;
        _logger = logger;
        _options = options.Value;
        _dataSource = OwnDataSource(connectionString, _options);
        _serviceId = cluster.Value.ServiceId;
        _workers = Enumerable.Range(0, _options.Connections).Select(_ => Task.Run(WorkAsync)).ToArray();
    }

    /// <summary>
    /// A pool of its own: the same five statements run thousands of times a second, so each connection prepares them
    /// once (without that, parsing and planning took the fan-out benchmark on PostgreSQL from 2.5 s to 4.0 s), and a
    /// connection handed back needs no session reset because these statements leave none.
    /// </summary>
    private static NpgsqlDataSource OwnDataSource(string connectionString, PostgresGrainStorageOptions options)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.MaxAutoPrepare = options.PreparedStatements;
        builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxPoolSize = Math.Max(builder.ConnectionStringBuilder.MaxPoolSize, options.Connections + 1);
        // Named, so an operator finds these sessions in pg_stat_activity.
        if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.ApplicationName)) builder.ConnectionStringBuilder.ApplicationName = ApplicationName;
        return builder.Build();
    }

    /// <summary>The <c>application_name</c> of this provider's sessions, unless the connection string names one.</summary>
    public const string ApplicationName = "agentdesk-grain-storage";

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var row = await RunAsync(new Operation(OperationKind.Read, RowKey.Of(_serviceId, stateName, grainId), null, null));
        grainState.State = row.Payload is null ? _activators.GetActivator<T>().Create() : _serializer.Deserialize<T>(new BinaryData(row.Payload));
        grainState.ETag = row.Version?.ToString(CultureInfo.InvariantCulture);
        // A cleared row keeps its version (the next write must name it) but holds no state, as Orleans' ADO.NET provider reads it.
        grainState.RecordExists = row.Payload is not null;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        // Serialised here, inside the caller's turn: the state cannot change while a worker holds it.
        // The serialised bytes as they are: Npgsql writes a bytea from memory, so no array is copied for it.
        var payload = _serializer.Serialize(grainState.State).ToMemory();
        var expected = ParseVersion(grainState.ETag);
        var row = await RunAsync(new Operation(OperationKind.Write, RowKey.Of(_serviceId, stateName, grainId), expected, payload));
        if (row.Version is null || row.Version == expected) throw Conflict("write", stateName, grainId, grainState.ETag);
        grainState.ETag = row.Version.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>
    /// Clears the version the caller holds, so a write made since is never wiped; a cleared row's version too (it clears
    /// again). A caller that holds neither a record nor a version reads the row first: a missing or cleared row is left as
    /// it is, and a stored one is cleared at the version read. Orleans' ADO.NET provider does the same, except that it
    /// ignores a clear that matches no row, which this one refuses as a conflict. No grain clears its state today.
    /// </summary>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (!grainState.RecordExists && string.IsNullOrWhiteSpace(grainState.ETag))
        {
            await ReadStateAsync(stateName, grainId, grainState);
            if (!grainState.RecordExists) return;
        }
        var expected = ParseVersion(grainState.ETag);
        var row = await RunAsync(new Operation(OperationKind.Clear, RowKey.Of(_serviceId, stateName, grainId), expected, null));
        if (row.Version is null) throw Conflict("clear", stateName, grainId, grainState.ETag);
        grainState.ETag = row.Version.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = false;
        grainState.State = _activators.GetActivator<T>().Create();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
        await _dataSource.DisposeAsync();
        _catalogueLock.Dispose();
    }

    private async Task<RowResult> RunAsync(Operation operation)
    {
        ObjectDisposedException.ThrowIf(!_queue.Writer.TryWrite(operation), this);
        return await operation.Done.Task;
    }

    private async Task WorkAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Operation>(_options.MaxBatchSize);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            var bytes = 0;
            while (batch.Count < _options.MaxBatchSize && bytes < _options.MaxBatchBytes && reader.TryRead(out var operation))
            {
                if (Stopwatch.GetElapsedTime(operation.Queued) > _options.QueueTimeout)
                {
                    operation.Done.TrySetException(new TimeoutException(
                        $"A grain-state {operation.Kind} waited longer than {_options.QueueTimeout} for PostgreSQL and was not sent."));
                    continue;
                }
                batch.Add(operation);
                bytes += operation.Payload?.Length ?? 0;
            }
            if (batch.Count > 0) await RunBatchAsync(batch);
        }
    }

    /// <summary>Sends a batch and hands each operation its outcome; true unless it failed as a whole.</summary>
    private async Task<bool> RunBatchAsync(List<Operation> operations, bool isRetry = false, bool mayGroup = true)
    {
        try
        {
            var results = await ExecuteAsync(operations, mayGroup);
            for (var i = 0; i < operations.Count; i++) operations[i].Done.TrySetResult(results[i]);
            return true;
        }
        catch (NpgsqlException lost) when (!isRetry && IsLostSession(lost))
        {
            // The session was gone (a restarted server leaves every pooled connection dead, and the first use of each
            // finds out). The pool is emptied and the batch sent once more on a new session. Safe even if the first
            // attempt had committed: each write carries the version it read, so a repeat is refused as a conflict and
            // never applied twice; reads repeat freely.
            LogSessionLost(lost, operations.Count);
            _dataSource.Clear();
            return await RunBatchAsync(operations, isRetry: true, mayGroup);
        }
        catch (GroupedWritesRefusedException refused)
        {
            // PostgreSQL refused a statement for what it is, not for its data, in a batch that held grouped ones: nothing
            // of it is stored. It does not say which statement it refused, so the batch goes again one statement each;
            // if that goes through, the grouped statements were at fault (a catalogue edited by hand, a server without
            // something they use) and this provider writes one statement each from now on.
            var sentOneEach = await RunBatchAsync(operations, isRetry, mayGroup: false);
            if (sentOneEach && Interlocked.Exchange(ref _groupedWritesRefused, 1) == 0) LogGroupedWritesRefused(refused.InnerException!);
            return sentOneEach;
        }
        catch (PostgresException rejected) when (operations.Count > 1 && IsOneStatementsFault(rejected))
        {
            // PostgreSQL refused one statement and rolled back the rest: nothing of this batch is stored, so each
            // operation is sent again alone and only the one at fault fails.
            LogBatchRejected(rejected, operations.Count);
            foreach (var operation in operations) await RunBatchAsync([operation], isRetry);
            return true;
        }
        catch (Exception failed)
        {
            foreach (var operation in operations) operation.Done.TrySetException(failed);
            return false;
        }
    }

    private async Task<RowResult[]> ExecuteAsync(List<Operation> operations, bool mayGroup)
    {
        var statements = await StatementsAsync();
        var plan = BatchPlan.Of(operations, mayGroup && statements.Grouped is not null && Volatile.Read(ref _groupedWritesRefused) == 0);
        LogBatchSent(plan.Updates.Count, plan.Inserts.Count, plan.Alone.Count);
        await using var connection = await _dataSource.OpenConnectionAsync();
        await using var batch = connection.CreateBatch();
        if (plan.Updates.Count > 0) batch.BatchCommands.Add(plan.UpdateCommand(statements.Grouped!.Update, operations));
        if (plan.Inserts.Count > 0) batch.BatchCommands.Add(plan.InsertCommand(statements.Grouped!.Insert, operations));
        foreach (var i in plan.Alone) batch.BatchCommands.Add(operations[i].ToCommand(statements));

        // One result set per statement, in the order they were added.
        var results = new RowResult[operations.Count];
        try
        {
            await ReadResultsAsync();
        }
        catch (PostgresException refused) when (plan.Updates.Count + plan.Inserts.Count > 0 && IsStatementItselfRefused(refused))
        {
            throw new GroupedWritesRefusedException(refused);
        }
        // Results are handed out only now: the reader is closed, so the batch's transaction has committed.
        return results;

        async Task ReadResultsAsync()
        {
            await using var reader = await batch.ExecuteReaderAsync();
            var resultSets = 0;
            if (plan.Updates.Count > 0)
            {
                // A write with no row back was refused by its version check: its result stays "no version", a conflict.
                await NextResultSetAsync();
                while (await reader.ReadAsync()) results[reader.GetInt32(0)] = new RowResult(null, reader.GetInt32(1));
            }
            if (plan.Inserts.Count > 0)
            {
                await NextResultSetAsync();
                while (await reader.ReadAsync()) results[reader.GetInt32(0)] = new RowResult(null, 1);
            }
            foreach (var i in plan.Alone)
            {
                await NextResultSetAsync();
                results[i] = await operations[i].ReadResultAsync(reader);
            }

            async Task NextResultSetAsync()
            {
                if (resultSets++ > 0 && !await reader.NextResultAsync())
                    throw new InvalidOperationException("PostgreSQL returned fewer results than the batch had statements.");
            }
        }
    }

    /// <summary>PostgreSQL refused a statement for what it is in a batch that held grouped ones; nothing of the batch was stored.</summary>
    private sealed class GroupedWritesRefusedException(PostgresException refused) : Exception(refused.Message, refused);

    /// <summary>
    /// How a batch's operations become statements. Writes go out as two statements for the whole batch, one updating every
    /// row that has a version and one inserting every first write: PostgreSQL then starts one executor and takes one
    /// snapshot for all of them instead of one per row, and each row still meets its own version check. A write whose
    /// row another operation of the same batch also touches goes out alone after them, as do reads and clears, so two
    /// writes of one row (two activations racing) are applied one after the other and the second is refused, exactly as
    /// when each went alone.
    /// </summary>
    private sealed class BatchPlan
    {
        public List<int> Updates { get; } = [];

        public List<int> Inserts { get; } = [];

        public List<int> Alone { get; } = [];

        public static BatchPlan Of(List<Operation> operations, bool groupWrites)
        {
            var plan = new BatchPlan();
            var rows = new HashSet<RowKey.Identity>();
            var shared = new HashSet<RowKey.Identity>();
            foreach (var operation in operations)
            {
                if (!rows.Add(operation.Key.Row)) shared.Add(operation.Key.Row);
            }
            for (var i = 0; i < operations.Count; i++)
            {
                var operation = operations[i];
                if (!groupWrites || operation.Kind != OperationKind.Write || shared.Contains(operation.Key.Row)) plan.Alone.Add(i);
                else if (operation.ExpectedVersion is null) plan.Inserts.Add(i);
                else plan.Updates.Add(i);
            }
            // One write is sent by its own statement, which every connection keeps prepared.
            if (plan.Updates.Count == 1) MoveAlone(plan.Updates);
            if (plan.Inserts.Count == 1) MoveAlone(plan.Inserts);
            return plan;

            void MoveAlone(List<int> single)
            {
                plan.Alone.Add(single[0]);
                plan.Alone.Sort();
                single.Clear();
            }
        }

        public NpgsqlBatchCommand UpdateCommand(string sql, List<Operation> operations)
        {
            var command = RowsCommand(sql, operations, Updates);
            AddColumn(command.Parameters, "ServiceId", NpgsqlDbType.Text, Updates, i => operations[i].Key.ServiceId);
            AddColumn(command.Parameters, "GrainStateVersion", NpgsqlDbType.Integer, Updates, i => operations[i].ExpectedVersion!.Value);
            return command;
        }

        public NpgsqlBatchCommand InsertCommand(string sql, List<Operation> operations)
        {
            var command = RowsCommand(sql, operations, Inserts);
            // One service per provider: every row of the batch has the same service id.
            command.Parameters.Add(new NpgsqlParameter("ServiceId", NpgsqlDbType.Varchar) { Value = operations[Inserts[0]].Key.ServiceId });
            AddColumn(command.Parameters, "GrainIdHash", NpgsqlDbType.Integer, Inserts, i => operations[i].Key.IdHash);
            AddColumn(command.Parameters, "GrainTypeHash", NpgsqlDbType.Integer, Inserts, i => operations[i].Key.TypeHash);
            return command;
        }

        /// <summary>A grouped statement with the columns both take: each write's ordinal, its row's key and its payload.</summary>
        private static NpgsqlBatchCommand RowsCommand(string sql, List<Operation> operations, List<int> rows)
        {
            var command = new NpgsqlBatchCommand(sql);
            var parameters = command.Parameters;
            AddColumn(parameters, "Ordinals", NpgsqlDbType.Integer, rows, i => i);
            AddColumn(parameters, "GrainIdN0", NpgsqlDbType.Bigint, rows, i => operations[i].Key.N0);
            AddColumn(parameters, "GrainIdN1", NpgsqlDbType.Bigint, rows, i => operations[i].Key.N1);
            AddColumn(parameters, "GrainTypeString", NpgsqlDbType.Text, rows, i => operations[i].Key.GrainType);
            AddColumn(parameters, "GrainIdExtensionString", NpgsqlDbType.Text, rows, i => operations[i].Key.Extension);
            AddColumn(parameters, "PayloadBinary", NpgsqlDbType.Bytea, rows, i => operations[i].Payload!.Value);
            return command;
        }

        private static void AddColumn<T>(NpgsqlParameterCollection parameters, string name, NpgsqlDbType type, List<int> rows, Func<int, T> value)
        {
            var column = new T[rows.Count];
            for (var r = 0; r < rows.Count; r++) column[r] = value(rows[r]);
            parameters.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | type) { Value = column });
        }
    }

    /// <summary>
    /// The statements, read from the catalogue the schema migration writes (and the ADO.NET provider reads): once, or,
    /// while the grouped ones are missing, again every <see cref="PostgresGrainStorageOptions.CatalogueRecheck"/>.
    /// </summary>
    private async ValueTask<Statements> StatementsAsync()
    {
        if (_statements is { } known && !IsDueForRecheck(known)) return known;
        await _catalogueLock.WaitAsync();
        try
        {
            var previous = _statements;
            if (previous is not null && !IsDueForRecheck(previous)) return previous;
            try
            {
                var read = await ReadCatalogueAsync();
                // A silo that starts before its schema script 007 is applied (a migration job still running) writes one
                // statement each, as before, rather than failing every write; it says so once, looks again now and then,
                // and groups its writes from the time it finds them.
                if (_options.GroupWrites && read.Grouped is null && previous is null) LogGroupedWritesMissing();
                if (read.Grouped is not null && previous is not null) LogGroupedWritesFound();
                return _statements = read;
            }
            catch (Exception failed) when (previous is not null)
            {
                // A look that fails changes nothing: the statements in hand still write, one each, until the next look.
                LogCatalogueRecheckFailed(failed);
                return _statements = previous with { ReadAt = Stopwatch.GetTimestamp() };
            }
        }
        finally
        {
            _catalogueLock.Release();
        }
    }

    private async Task<Statements> ReadCatalogueAsync()
    {
        await using var command = _dataSource.CreateCommand(
            "SELECT QueryKey, QueryText FROM OrleansQuery WHERE QueryKey IN ('ReadFromStorageKey', 'WriteToStorageKey', 'ClearStorageKey', "
            + "'AgentDesk.UpdateManyInStorageKey', 'AgentDesk.InsertManyIntoStorageKey')");
        await using var reader = await command.ExecuteReaderAsync();
        var texts = new Dictionary<string, string>();
        while (await reader.ReadAsync()) texts[reader.GetString(0)] = reader.GetString(1);
        string Text(string key) => texts.TryGetValue(key, out var text) ? text
            : throw new InvalidOperationException($"OrleansQuery has no {key}: apply deploy/sql/postgres (the silo does at start-up unless told not to migrate).");
        var updateMany = texts.GetValueOrDefault("AgentDesk.UpdateManyInStorageKey");
        var insertMany = texts.GetValueOrDefault("AgentDesk.InsertManyIntoStorageKey");
        var grouped = _options.GroupWrites && updateMany is not null && insertMany is not null ? new GroupedWrites(updateMany, insertMany) : null;
        return new Statements(Text("ReadFromStorageKey"), Text("WriteToStorageKey"), Text("ClearStorageKey"), grouped, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// Errors a single statement causes with its own values (data exceptions, constraint violations) or by meeting
    /// another transaction (a deadlock): the rest of its batch was sound. Anything else concerns the whole batch.
    /// </summary>
    private static bool IsOneStatementsFault(PostgresException error) =>
        error.SqlState.StartsWith("22", StringComparison.Ordinal)
        || error.SqlState.StartsWith("23", StringComparison.Ordinal)
        || error.SqlState == PostgresErrorCodes.DeadlockDetected;

    /// <summary>
    /// A statement refused for what it is rather than for a row's values: an unknown column, type or function, a missing
    /// privilege (class 42), or a feature the server lacks (0A000).
    /// </summary>
    private static bool IsStatementItselfRefused(PostgresException error) =>
        error.SqlState.StartsWith("42", StringComparison.Ordinal) || error.SqlState == PostgresErrorCodes.FeatureNotSupported;

    /// <summary>The session ended under the batch: terminated by the server (a restart, an administrator) or its connection broken.</summary>
    private static bool IsLostSession(NpgsqlException error) => error switch
    {
        PostgresException server => server.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            || server.SqlState.StartsWith("08", StringComparison.Ordinal),
        _ => error.InnerException is IOException or System.Net.Sockets.SocketException or EndOfStreamException,
    };

    private static int? ParseVersion(string? etag) =>
        string.IsNullOrWhiteSpace(etag) ? null : int.Parse(etag, CultureInfo.InvariantCulture);

    private static InconsistentStateException Conflict(string operation, string stateName, GrainId grainId, string? etag) =>
        new($"Version conflict ({operation}) on {stateName} of {grainId}: the stored row is no longer at version {etag ?? "(none)"}.");

    [LoggerMessage(Level = LogLevel.Warning, Message = "The session of a batch of {Count} grain-state operations was lost; sending the batch again on a new one.")]
    private partial void LogSessionLost(Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sending a batch of grain-state operations: {Updates} updates and {Inserts} first writes grouped, {Alone} statements of their own.")]
    private partial void LogBatchSent(int updates, int inserts, int alone);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OrleansQuery has no grouped write statements (deploy/sql/postgres/007 is not applied): grain-state writes go out one statement each until they are there.")]
    private partial void LogGroupedWritesMissing();

    [LoggerMessage(Level = LogLevel.Information, Message = "OrleansQuery now has the grouped write statements: grain-state writes are grouped from now on.")]
    private partial void LogGroupedWritesFound();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for the grouped write statements in OrleansQuery failed; grain-state writes go on one statement each.")]
    private partial void LogCatalogueRecheckFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "PostgreSQL refused a grouped grain-state write statement itself (the same writes went through one statement each); this silo writes one statement each from now on. Check OrleansQuery against deploy/sql/postgres/007.")]
    private partial void LogGroupedWritesRefused(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL rejected a batch of {Count} grain-state operations; sending each on its own.")]
    private partial void LogBatchRejected(Exception exception, int count);

    /// <summary>The catalogue's statements; <paramref name="Grouped"/> is null when writes go out one statement each.</summary>
    private sealed record Statements(string Read, string Write, string Clear, GroupedWrites? Grouped, long ReadAt);

    private bool IsDueForRecheck(Statements statements) =>
        _options.GroupWrites && statements.Grouped is null && Stopwatch.GetElapsedTime(statements.ReadAt) >= _options.CatalogueRecheck;

    /// <summary>The statements that write many rows at once (schema script 007).</summary>
    private sealed record GroupedWrites(string Update, string Insert);

    private enum OperationKind { Read, Write, Clear }

    private readonly record struct RowResult(byte[]? Payload, int? Version);

    private sealed class Operation(OperationKind kind, RowKey key, int? expectedVersion, ReadOnlyMemory<byte>? payload)
    {
        public OperationKind Kind => kind;

        public RowKey Key => key;

        public int? ExpectedVersion => expectedVersion;

        public ReadOnlyMemory<byte>? Payload => payload;

        public long Queued { get; } = Stopwatch.GetTimestamp();

        public TaskCompletionSource<RowResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public NpgsqlBatchCommand ToCommand(Statements statements)
        {
            var command = new NpgsqlBatchCommand(kind switch
            {
                OperationKind.Read => statements.Read,
                OperationKind.Write => statements.Write,
                _ => statements.Clear,
            });
            key.AddTo(command.Parameters);
            if (kind != OperationKind.Read)
                command.Parameters.Add(new NpgsqlParameter("GrainStateVersion", NpgsqlDbType.Integer) { Value = (object?)expectedVersion ?? DBNull.Value });
            if (kind == OperationKind.Write)
                command.Parameters.Add(new NpgsqlParameter("PayloadBinary", NpgsqlDbType.Bytea) { Value = payload!.Value });
            return command;
        }

        public async Task<RowResult> ReadResultAsync(NpgsqlDataReader reader)
        {
            if (!await reader.ReadAsync()) return default;
            var result = kind == OperationKind.Read
                ? new RowResult(reader.IsDBNull(0) ? null : reader.GetFieldValue<byte[]>(0), reader.IsDBNull(1) ? null : reader.GetInt32(1))
                : new RowResult(null, reader.IsDBNull(0) ? null : reader.GetInt32(0));
            while (await reader.ReadAsync()) { }
            return result;
        }
    }

    /// <summary>
    /// How the ADO.NET provider files a grain's row: a Guid key as its two 64-bit halves, an integer key in the second
    /// half, any other key as a string; the key extension as a string; hashes with Orleans' stable hash.
    /// </summary>
    private sealed record RowKey(string ServiceId, string GrainType, long N0, long N1, string? Extension, int IdHash, int TypeHash)
    {
        private static readonly OrleansDefaultHasher Hasher = new();

        /// <summary>What the table's unique index tells rows apart by (within one service): no extension and an empty one are the same row.</summary>
        public readonly record struct Identity(string GrainType, long N0, long N1, string Extension);

        public Identity Row => new(GrainType, N0, N1, Extension ?? "");

        private static void RequireFits(string value, int characters, string what)
        {
            if (value.Length > characters && value.EnumerateRunes().Count() > characters)
                throw new ArgumentException($"A {what} of more than {characters} characters does not fit the OrleansStorage table: {value[..40]}…");
        }

        public static RowKey Of(string serviceId, string stateName, GrainId grainId)
        {
            // The ADO.NET provider strips generic arguments from a type name; state names here never have them.
            if (stateName.Contains('`')) throw new ArgumentException($"State name {stateName} looks like a generic type name, which this provider does not file.", nameof(stateName));
            // PostgreSQL cuts a value too long for its column when only spaces are cut: a row would be filed under a key
            // that no read finds. Refused here instead, counted as PostgreSQL counts characters.
            RequireFits(serviceId, 150, "service id");
            RequireFits(stateName, 512, "state name");
            long n0 = 0, n1 = 0;
            string? extension;
            byte[] hashBytes;
            if (grainId.TryGetGuidKey(out var guid, out extension))
            {
                var halves = guid.ToByteArray();
                n0 = BitConverter.ToInt64(halves, 0);
                n1 = BitConverter.ToInt64(halves, 8);
                hashBytes = halves;
            }
            else if (grainId.TryGetIntegerKey(out var integer, out extension))
            {
                n1 = integer;
                hashBytes = BitConverter.GetBytes(integer);
            }
            else
            {
                extension = grainId.Key.ToString();
                hashBytes = [];
            }
            if (extension is not null)
            {
                RequireFits(extension, 512, "grain key");
                hashBytes = [.. hashBytes, .. Encoding.UTF8.GetBytes(extension)];
            }
            if (BitConverter.IsLittleEndian) Array.Reverse(hashBytes);
            return new RowKey(serviceId, stateName, n0, n1, extension, Hasher.Hash(hashBytes), Hasher.Hash(Encoding.UTF8.GetBytes(stateName)));
        }

        public void AddTo(NpgsqlParameterCollection parameters)
        {
            parameters.Add(new NpgsqlParameter("GrainIdHash", NpgsqlDbType.Integer) { Value = IdHash });
            parameters.Add(new NpgsqlParameter("GrainIdN0", NpgsqlDbType.Bigint) { Value = N0 });
            parameters.Add(new NpgsqlParameter("GrainIdN1", NpgsqlDbType.Bigint) { Value = N1 });
            parameters.Add(new NpgsqlParameter("GrainTypeHash", NpgsqlDbType.Integer) { Value = TypeHash });
            parameters.Add(new NpgsqlParameter("GrainTypeString", NpgsqlDbType.Varchar) { Value = GrainType });
            parameters.Add(new NpgsqlParameter("GrainIdExtensionString", NpgsqlDbType.Varchar) { Value = (object?)Extension ?? DBNull.Value });
            parameters.Add(new NpgsqlParameter("ServiceId", NpgsqlDbType.Varchar) { Value = ServiceId });
        }
    }
}

/// <summary>How <see cref="PostgresGrainStorage"/> groups grain-state operations into round trips.</summary>
public sealed class PostgresGrainStorageOptions
{
    public const string Section = "AgentDesk:GrainStorage";

    /// <summary>Batches in flight at once, each on its own pooled connection.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 64)]
    public int Connections { get; set; } = 8;

    /// <summary>Most operations in one batch.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1000)]
    public int MaxBatchSize { get; set; } = 200;

    /// <summary>
    /// Statements each connection keeps prepared (Npgsql's <c>Max Auto Prepare</c>). 0 turns preparing off, for a
    /// connection pooler in transaction mode that cannot keep prepared statements.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, 100)]
    public int PreparedStatements { get; set; } = 10;

    /// <summary>An operation still queued after this long fails unsent (a database that stopped answering).</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A batch takes no more operations once its payloads reach this many bytes (one larger payload still goes alone).</summary>
    [System.ComponentModel.DataAnnotations.Range(64 * 1024, 256 * 1024 * 1024)]
    public int MaxBatchBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// A batch's writes go out as one update and one insert for all their rows (true), or as one statement each, as the
    /// ADO.NET provider sends them (false: for comparing the two, and a way back should the grouped statements misbehave).
    /// </summary>
    public bool GroupWrites { get; set; } = true;

    /// <summary>How often a silo that found the grouped statements missing from the catalogue looks for them again.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CatalogueRecheck { get; set; } = TimeSpan.FromMinutes(1);
}
