using System.Collections.Concurrent;
using System.Globalization;
using Orleans.Storage;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Grain state in this process's memory, for <c>Memory</c> mode (tests and benchmarks on one silo). Orleans'
/// own memory storage keeps state in storage grains, which costs a grain call per read and write; this keeps
/// the state's JSON (<see cref="JsonGrainStorageSerializer"/>) per grain with the same optimistic-concurrency contract as
/// the ADO.NET provider. It is not shared between silos: multi-silo clusters use PostgreSQL.
/// </summary>
/// <remarks>
/// A row keeps its array from write to write and copies the next write's JSON into it when it fits. A new array for
/// every write (an agent's state is some 16 KB, and every intent writes it and its position's) was about a third of what
/// an intent allocated in the intents benchmark, and clearing and faulting in those fresh pages a seventh of the
/// serializer's CPU (docs/benchmarks.md, the tenth session).
/// </remarks>
public sealed class InProcessMemoryGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string StateName, GrainId GrainId), Row> _rows = new();

    /// <summary>One grain's stored JSON. Locked while it is written or read, so a read never sees half a write.</summary>
    private sealed class Row
    {
        private byte[] _json = [];
        private int _length;

        /// <summary>Whether a state is stored (a row stays once made: see <see cref="ClearStateAsync{T}"/>).</summary>
        public bool Exists { get; private set; }

        /// <summary>The stored version. It keeps counting through a clear, so a version held from before never matches again.</summary>
        public int Version { get; private set; }

        public ReadOnlySpan<byte> Json => _json.AsSpan(0, _length);

        /// <summary>
        /// Stores <paramref name="json"/> as the next version. A row's first write gets an array of its size (most rows are
        /// written once or twice: a subscriber's position); a row outgrowing its array gets a quarter more room, so a state
        /// that grows by a few bytes with each write is copied into the same array for many writes.
        /// </summary>
        public int Store(ReadOnlySpan<byte> json)
        {
            // Kept until it is four times the JSON: a state that shrank for good gives its room back, and one whose size
            // swings (a few events waiting, then none) keeps its array.
            if (json.Length > _json.Length || _json.Length > 4 * json.Length)
                _json = GC.AllocateUninitializedArray<byte>(_json.Length == 0 ? json.Length : json.Length + json.Length / 4);
            json.CopyTo(_json);
            _length = json.Length;
            Exists = true;
            return ++Version;
        }

        public void Clear()
        {
            _json = [];
            _length = 0;
            Exists = false;
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            lock (row)
            {
                if (!row.Exists) return Task.CompletedTask;
                grainState.State = JsonGrainStorageSerializer.Deserialize<T>(row.Json);
                grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
                grainState.RecordExists = true;
            }
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        int? expected = grainState.ETag is null ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var row = _rows.GetOrAdd((stateName, grainId), static _ => new Row());
        int version;
        lock (row)
        {
            // A writer without a version expects no state; one with a version expects that version, still stored.
            if (expected is null ? row.Exists : !row.Exists || row.Version != expected) throw Conflict(stateName, grainId, grainState.ETag);
            // Serialised straight into the row: a state that fails to serialise leaves the stored version as it was.
            version = JsonGrainStorageSerializer.Serialize(grainState.State, row, static (json, row) => row.Store(json));
        }
        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Empties the row but keeps it: a writer that already holds it (between its lookup and its lock) must find it cleared,
    /// not write into a row no longer in the table and lose its write.
    /// </summary>
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            lock (row) row.Clear();
        }
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static InconsistentStateException Conflict(string stateName, GrainId grainId, string? etag) =>
        new($"Version conflict writing {stateName} of {grainId} (ETag {etag}).");
}
