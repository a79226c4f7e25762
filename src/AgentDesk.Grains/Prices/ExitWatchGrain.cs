using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Orleans.Storage;

namespace AgentDesk.Grains.Prices;

/// <summary>
/// The page's own row: whether the feed knows of it, and which of its parts have rows. Its envelopes are stored in parts
/// (<see cref="ExitWatchPart"/>).
/// </summary>
public sealed class ExitWatchState
{
    /// <summary>
    /// Envelopes a page stored in its own row before pages were stored in parts; the page moves them into its parts when it
    /// next activates, and this stays empty from then on.
    /// </summary>
    public Dictionary<string, WatchEnvelope> Positions { get; set; } = [];
    public bool Activated { get; set; }

    /// <summary>Bit <c>i</c> is set once part <c>i</c> may have a row; it is stored before that row is first written.</summary>
    public uint StoredParts { get; set; }
}

/// <summary>One stored part of a page: the envelopes of the positions whose keys hash to it (<see cref="ExitIndex.PartOf"/>).</summary>
public sealed class ExitWatchPart
{
    public Dictionary<string, WatchEnvelope> Positions { get; set; } = [];
}

/// <summary>
/// One page of a symbol's exit index (<see cref="ExitIndex"/>). A tick is compared with every envelope in a plain
/// loop and only the positions it reaches are called. The page never waits on them (it answers the feed at once), but
/// re-sends the newest tick to a position whose call failed until it gets through (<see cref="TickDelivery"/>).
/// </summary>
/// <remarks>
/// A page holds a 256th of its symbol's open positions, from a few envelopes to thousands, so it stores them in
/// <see cref="ExitIndex.PartsPerPage"/> rows and a write stores only the parts that changed. Writes are also shared
/// (the grain is reentrant; no method changes the envelopes across an await):
/// <list type="bullet">
/// <item>A write stores a copy of each changed part: the ADO.NET provider serialises on another thread once its
/// connection is open, while the page goes on changing its own dictionaries.</item>
/// <item>A watch answers once a write that includes it is stored: a lost watch would leave a position no tick reaches.
/// Watches arriving while a write is out share the next write (group commit). A write that stores a watch also
/// rewrites the page's own small row, so a second activation of the page (a silo declared dead that kept running) makes
/// the next such write fail on the row's version and the page reload, whichever parts each activation wrote.</item>
/// <item>An unwatch answers at once and is stored by the next write, or by <see cref="UnwatchWriteDelay"/> at the
/// latest. Losing one is harmless: the stale entry's next tick reaches a position that is no longer live, which
/// unwatches again. So an exit storm does not rewrite a part once per closed position.</item>
/// </list>
/// </remarks>
[Reentrant]
[GrainType("exit-watch")]
public sealed class ExitWatchGrain(
    [PersistentState(StorageNames.ExitWatch, StorageNames.Provider)] IPersistentState<ExitWatchState> state,
    ILogger<ExitWatchGrain> logger) : Grain, IExitWatchGrain
{
    public static readonly TimeSpan UnwatchWriteDelay = TimeSpan.FromSeconds(1);

    private static readonly string[] PartStateNames = Enumerable.Range(0, ExitIndex.PartsPerPage).Select(StorageNames.ExitWatchPart).ToArray();

    /// <summary>A part as the page works with it: its envelopes, its row's version, and whether the two differ.</summary>
    private sealed class Part(int index)
    {
        public readonly int Index = index;
        public Dictionary<string, WatchEnvelope> Positions = [];
        public string? ETag;
        public bool Changed;
    }

    private readonly Part[] _parts = Enumerable.Range(0, ExitIndex.PartsPerPage).Select(i => new Part(i)).ToArray();
    private IGrainStorage? _storage;
    private TickDelivery? _delivery;
    private Task? _activating;
    private TaskCompletionSource? _nextWrite;
    private bool _writing;
    private bool _writeFailed;
    private bool _watchesToStore;
    private IGrainTimer? _deferredWrite;

    private TickDelivery Delivery => _delivery ??= new TickDelivery(this, (key, tick) => GrainFactory.GetGrain<IPositionGrain>(key).OnPriceAsync(tick), logger);

    private IGrainStorage Storage => _storage ??= ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);

    /// <summary>Reads the parts that have rows; envelopes still in the page's own row (stored before parts) move into their parts.</summary>
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            var stored = _parts.Where(part => (state.State.StoredParts & Bit(part)) != 0).ToList();
            var rows = stored.Select(part => new GrainState<ExitWatchPart>(new ExitWatchPart())).ToList();
            await Task.WhenAll(stored.Select((part, i) => Storage.ReadStateAsync(PartStateNames[part.Index], this.GetGrainId(), rows[i])));
            for (var i = 0; i < stored.Count; i++)
            {
                stored[i].Positions = rows[i].State?.Positions ?? [];
                stored[i].ETag = rows[i].ETag;
            }
            if (state.State.Positions.Count > 0) await MoveOwnRowIntoPartsAsync(cancellationToken);
        }
        catch (Exception e) when (DiscardStateOnFailure.FromDatabase(e) is { } database)
        {
            // As a failed call does (DiscardStateOnFailure): the driver's exception cannot cross the grain boundary, and callers
            // must be able to tell "retry" from "bug".
            logger.LogWarning(database, "Exit-index page {Page} could not load its parts", this.GetPrimaryKeyString());
            throw new StorageUnavailableException($"The database failed while exit-index page {this.GetPrimaryKeyString()} loaded its parts: {database.Message}");
        }
    }

    /// <summary>
    /// The envelopes of a page stored before parts, moved into its parts: the parts are written first and the page's row
    /// emptied after, so a move that dies between the two is made again. An envelope in the page's row replaces the one
    /// a part holds: the parts hold it from an earlier move, or a silo of the release before wrote the row later.
    /// </summary>
    private async Task MoveOwnRowIntoPartsAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, envelope) in state.State.Positions)
        {
            var part = _parts[ExitIndex.PartOf(key)];
            if (part.Positions.TryGetValue(key, out var held) && held == envelope) continue;
            part.Positions[key] = envelope;
            part.Changed = true;
        }
        await StoreChangedPartsAsync(withOwnRow: false);
        var moved = state.State.Positions.Count;
        state.State.Positions = [];
        await state.WriteStateAsync(cancellationToken);
        logger.LogInformation("Exit-index page {Page} moved {Count} envelopes from its own row into its parts.", this.GetPrimaryKeyString(), moved);
    }

    public async Task WatchAsync(string positionKey, WatchEnvelope envelope)
    {
        if (_writeFailed) throw new InvalidOperationException("This exit-index page lost a write and is reloading; retry.");
        if (!state.State.Activated)
        {
            try
            {
                await (_activating ??= ActivateWithFeedAsync());
            }
            catch
            {
                _activating = null; // the next watch tries again
                throw;
            }
        }
        var part = _parts[ExitIndex.PartOf(positionKey)];
        // Answered at once only when memory is what storage holds: with a write queued or out, the same envelope in
        // memory may never be stored, so this watch waits for that write like the one that put it there.
        if (part.Positions.TryGetValue(positionKey, out var known) && known == envelope && !_writing && _nextWrite is null) return;
        part.Positions[positionKey] = envelope;
        part.Changed = true;
        _watchesToStore = true;
        await WriteAsync();
    }

    public Task UnwatchAsync(string positionKey)
    {
        var part = _parts[ExitIndex.PartOf(positionKey)];
        if (!part.Positions.Remove(positionKey)) return Task.CompletedTask;
        part.Changed = true;
        // A write queued but not started stores the removal too; otherwise a deferred write will.
        if (_nextWrite is null)
            _deferredWrite ??= this.RegisterGrainTimer(WriteDeferredAsync, new GrainTimerCreationOptions(UnwatchWriteDelay, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public Task OnPriceAsync(PriceTick tick)
    {
        foreach (var part in _parts)
        {
            foreach (var (key, envelope) in part.Positions)
            {
                if (new ExitEnvelope(envelope.Lower, envelope.Upper).IsReachedBy(tick.PriceUsd))
                    Delivery.Send(key, tick);
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// Unwatches not yet stored are stored on the way out (best effort: a lost one is healed, see the remarks), unless a
    /// write failed: then nothing this activation holds is trusted to storage.
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_deferredWrite is not null && !_writeFailed) await WriteDeferredAsync();
    }

    /// <summary>The feed learns of the page once, before its first watch is stored (which stores that too), so ticks reach it from then on.</summary>
    private async Task ActivateWithFeedAsync()
    {
        var (symbol, page) = GrainKeys.ParseExitWatch(this.GetPrimaryKeyString());
        await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).ActivatePageAsync(page);
        state.State.Activated = true;
    }

    private Task WriteDeferredAsync()
    {
        _deferredWrite?.Dispose();
        _deferredWrite = null;
        return WriteAsync();
    }

    /// <summary>Completes when a write that started after this call is stored; concurrent callers share that write.</summary>
    private Task WriteAsync()
    {
        _deferredWrite?.Dispose(); // the coming write stores pending unwatches too
        _deferredWrite = null;
        var next = _nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_writing) _ = WriteLoopAsync();
        return next.Task;
    }

    private async Task WriteLoopAsync()
    {
        _writing = true;
        try
        {
            while (_nextWrite is { } write)
            {
                _nextWrite = null;
                var withOwnRow = _watchesToStore;
                _watchesToStore = false;
                try
                {
                    // After a failed write this activation's memory (its parts' versions, the parts it names in its row) may be
                    // ahead of storage, so it stores nothing more; the next activation reloads.
                    if (_writeFailed) throw new InvalidOperationException("This exit-index page lost a write and is reloading; retry.");
                    await StoreChangedPartsAsync(withOwnRow);
                    write.SetResult();
                }
                catch (Exception e)
                {
                    // The waiting watches fail (their callers retry), and the activation goes: its memory is ahead of storage.
                    // Until it has gone, later watches fail too rather than trust that memory.
                    _writeFailed = true;
                    write.SetException(e);
                    DeactivateOnIdle();
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    /// <summary>
    /// Stores a copy of every part changed since its last write, the parts side by side, and the page's own row with them
    /// when <paramref name="withOwnRow"/> (see the remarks). A part written for the first time is named in the own row first,
    /// so an activation never skips a part that has a row (a part named whose first write never landed reads as empty).
    /// </summary>
    private async Task StoreChangedPartsAsync(bool withOwnRow)
    {
        var changed = _parts.Where(part => part.Changed).ToList();
        foreach (var part in changed) part.Changed = false;
        var newParts = changed.Aggregate(0u, (bits, part) => bits | Bit(part)) & ~state.State.StoredParts;
        if (newParts != 0)
        {
            state.State.StoredParts |= newParts;
            await state.WriteStateAsync();
            withOwnRow = false;
        }
        var writes = changed.Select(StorePartAsync).ToList();
        if (withOwnRow) writes.Add(state.WriteStateAsync());
        await Task.WhenAll(writes);
    }

    private async Task StorePartAsync(Part part)
    {
        var row = new GrainState<ExitWatchPart>(new ExitWatchPart { Positions = new Dictionary<string, WatchEnvelope>(part.Positions) }, part.ETag);
        await Storage.WriteStateAsync(PartStateNames[part.Index], this.GetGrainId(), row);
        part.ETag = row.ETag;
    }

    private static uint Bit(Part part) => 1u << part.Index;
}
