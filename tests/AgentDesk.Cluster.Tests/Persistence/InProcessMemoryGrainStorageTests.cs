using System.Text.Json;
using AgentDesk.Silo.Persistence;
using Orleans.Storage;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// Memory mode's grain storage keeps each row's array from write to write and copies the next state's JSON into it. A read
/// must return exactly the last stored state whatever its size did in between, and a write that fails must leave the
/// stored state and its version as they were.
/// </summary>
public sealed class InProcessMemoryGrainStorageTests
{
    public sealed class Ledger
    {
        public decimal FreeUsdc { get; set; }
        public List<string> Notes { get; set; } = [];
    }

    /// <summary>A state whose serialisation fails part-way, after some of its JSON is written.</summary>
    public sealed class Broken
    {
        public string Before { get; set; } = new('x', 500);
        public string After => Before.Length > 0 ? throw new InvalidOperationException("cannot be serialised") : Before;
    }

    private readonly InProcessMemoryGrainStorage _storage = new();
    private readonly GrainId _grain = GrainId.Create("account", "Memory/0x" + Guid.NewGuid().ToString("N"));

    private async Task<GrainState<T>> ReadAsync<T>(string stateName = "ledger") where T : new()
    {
        var read = new GrainState<T>(new T());
        await _storage.ReadStateAsync(stateName, _grain, read);
        return read;
    }

    [Fact]
    public async Task Each_read_returns_the_last_write_exactly_as_the_state_grows_and_shrinks()
    {
        var written = new GrainState<Ledger>(new Ledger());
        // Sizes chosen to take every path: a first row, a larger one (a new array with room), writes that fit in that room,
        // one smaller than the one before (the same array), and one under a quarter of the array (a new, smaller array).
        foreach (var notes in new[] { 1, 40, 41, 42, 30, 2, 60, 0 })
        {
            written.State!.FreeUsdc = 100m + notes;
            written.State!.Notes = Enumerable.Range(0, notes).Select(n => $"note {n} of {notes}").ToList();
            await _storage.WriteStateAsync("ledger", _grain, written);

            var read = await ReadAsync<Ledger>();
            Assert.True(read.RecordExists);
            Assert.Equal(written.ETag, read.ETag);
            Assert.Equal(JsonSerializer.Serialize(written.State), JsonSerializer.Serialize(read.State));
        }
        Assert.Equal("8", written.ETag);
    }

    [Fact]
    public async Task A_write_whose_state_cannot_be_serialised_leaves_the_stored_state_and_its_version()
    {
        var written = new GrainState<Ledger>(new Ledger { FreeUsdc = 250m, Notes = ["kept"] });
        await _storage.WriteStateAsync("ledger", _grain, written);

        // The same row, written with a state that breaks half-way through its JSON.
        var broken = new GrainState<Broken>(new Broken()) { ETag = written.ETag, RecordExists = true };
        await Assert.ThrowsAsync<InvalidOperationException>(() => _storage.WriteStateAsync("ledger", _grain, broken));
        Assert.Equal(written.ETag, broken.ETag);

        var read = await ReadAsync<Ledger>();
        Assert.Equal(written.ETag, read.ETag);
        Assert.Equal(250m, read.State!.FreeUsdc);
        Assert.Equal(["kept"], read.State!.Notes);

        // The version did not move, so the writer that holds it still writes.
        written.State!.FreeUsdc = 260m;
        await _storage.WriteStateAsync("ledger", _grain, written);
        Assert.Equal(260m, (await ReadAsync<Ledger>()).State!.FreeUsdc);
    }

    [Fact]
    public async Task A_cleared_row_reads_as_absent_and_a_version_held_from_before_it_never_writes_again()
    {
        var written = new GrainState<Ledger>(new Ledger { FreeUsdc = 5m });
        await _storage.WriteStateAsync("ledger", _grain, written);
        // An activation that read version 1 and was then left behind (a stale copy of the grain).
        var stale = new GrainState<Ledger>(new Ledger { FreeUsdc = 6m }) { ETag = written.ETag, RecordExists = true };

        await _storage.ClearStateAsync("ledger", _grain, written);
        var read = await ReadAsync<Ledger>();
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("ledger", _grain, stale));

        // A writer that starts from nothing stores again, under a version the stale copy does not hold.
        read.State!.FreeUsdc = 7m;
        await _storage.WriteStateAsync("ledger", _grain, read);
        Assert.NotEqual(stale.ETag, read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => _storage.WriteStateAsync("ledger", _grain, stale));
        Assert.Equal(7m, (await ReadAsync<Ledger>()).State!.FreeUsdc);
    }
}
