using System.Collections.Concurrent;
using Orleans.Storage;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// Grain state in this process's memory, for <c>Memory</c> mode (tests and benchmarks on one silo). Orleans'
/// own memory storage keeps state in storage grains, which costs a grain call per read and write; this keeps
/// a serialized copy per grain with the same optimistic-concurrency contract as the ADO.NET provider.
/// It is not shared between silos: multi-silo clusters use PostgreSQL.
/// </summary>
public sealed class InProcessMemoryGrainStorage(IGrainStorageSerializer serializer) : IGrainStorage
{
    private readonly ConcurrentDictionary<(string StateName, GrainId GrainId), Row> _rows = new();

    private sealed record Row(BinaryData Payload, int Version);

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            grainState.State = serializer.Deserialize<T>(row.Payload);
            grainState.ETag = row.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var payload = serializer.Serialize(grainState.State);
        var key = (stateName, grainId);
        var expected = grainState.ETag is null ? 0 : int.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
        var written = _rows.AddOrUpdate(key,
            _ => expected == 0 ? new Row(payload, 1) : throw Conflict(stateName, grainId, grainState.ETag),
            (_, existing) => existing.Version == expected ? new Row(payload, existing.Version + 1) : throw Conflict(stateName, grainId, grainState.ETag));
        grainState.ETag = written.Version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _rows.TryRemove((stateName, grainId), out _);
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private static InconsistentStateException Conflict(string stateName, GrainId grainId, string? etag) =>
        new($"Version conflict writing {stateName} of {grainId} (ETag {etag}).");
}
