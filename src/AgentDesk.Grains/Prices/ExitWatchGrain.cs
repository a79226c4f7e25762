using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace AgentDesk.Grains.Prices;

public sealed class ExitWatchState
{
    public Dictionary<string, WatchEnvelope> Positions { get; set; } = [];
    public bool Activated { get; set; }
}

/// <summary>
/// One page of a symbol's exit index (<see cref="ExitIndex"/>). A tick is compared with every envelope in a plain
/// loop and only the positions it reaches are called. The page never waits on them (it answers the feed at once), but
/// re-sends the newest tick to a position whose call failed until it gets through (<see cref="TickDelivery"/>).
/// </summary>
/// <remarks>
/// The page's state is a few hundred envelopes, so writing it costs far more than one position's change. Writes are
/// therefore shared (the grain is reentrant; no method changes the dictionary across an await):
/// <list type="bullet">
/// <item>A write stores a copy of the envelopes: the ADO.NET provider serialises on another thread once its connection is
/// open, while the page goes on changing its own dictionary.</item>
/// <item>A watch answers once a write that includes it is stored: a lost watch would leave a position no tick reaches.
/// Watches arriving while a write is out share the next write (group commit).</item>
/// <item>An unwatch answers at once and is stored by the next write, or by <see cref="UnwatchWriteDelay"/> at the
/// latest. Losing one is harmless: the stale entry's next tick reaches a position that is no longer live, which
/// unwatches again. So an exit storm does not rewrite each page once per closed position.</item>
/// </list>
/// </remarks>
[Reentrant]
[GrainType("exit-watch")]
public sealed class ExitWatchGrain(
    [PersistentState(StorageNames.ExitWatch, StorageNames.Provider)] IPersistentState<ExitWatchState> state,
    ILogger<ExitWatchGrain> logger) : Grain, IExitWatchGrain
{
    public static readonly TimeSpan UnwatchWriteDelay = TimeSpan.FromSeconds(1);

    private TickDelivery? _delivery;
    private Dictionary<string, WatchEnvelope>? _positions;
    private Task? _activating;
    private TaskCompletionSource? _nextWrite;
    private bool _writing;
    private bool _writeFailed;
    private IGrainTimer? _deferredWrite;

    /// <summary>The envelopes this page works with; storage gets a copy of them per write.</summary>
    private Dictionary<string, WatchEnvelope> Positions => _positions ??= state.State.Positions;

    private TickDelivery Delivery => _delivery ??= new TickDelivery(this, (key, tick) => GrainFactory.GetGrain<IPositionGrain>(key).OnPriceAsync(tick), logger);

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
        // Answered at once only when memory is what storage holds: with a write queued or out, the same envelope in
        // memory may never be stored, so this watch waits for that write like the one that put it there.
        if (Positions.TryGetValue(positionKey, out var known) && known == envelope && !_writing && _nextWrite is null) return;
        Positions[positionKey] = envelope;
        await WriteAsync();
    }

    public Task UnwatchAsync(string positionKey)
    {
        // A write queued but not started stores the removal too; otherwise a deferred write will.
        if (Positions.Remove(positionKey) && _nextWrite is null)
            _deferredWrite ??= this.RegisterGrainTimer(WriteDeferredAsync, new GrainTimerCreationOptions(UnwatchWriteDelay, Timeout.InfiniteTimeSpan));
        return Task.CompletedTask;
    }

    public Task OnPriceAsync(PriceTick tick)
    {
        foreach (var (key, envelope) in Positions)
        {
            if (new ExitEnvelope(envelope.Lower, envelope.Upper).IsReachedBy(tick.PriceUsd))
                Delivery.Send(key, tick);
        }
        return Task.CompletedTask;
    }

    /// <summary>Unwatches not yet stored are stored on the way out (best effort: a lost one is healed, see the remarks).</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_deferredWrite is not null) await WriteDeferredAsync();
    }

    /// <summary>The feed learns of the page once, before its first watch is stored, so ticks reach it from then on.</summary>
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
                try
                {
                    state.State.Positions = new Dictionary<string, WatchEnvelope>(Positions);
                    await state.WriteStateAsync();
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
            state.State.Positions = Positions; // the copy is not kept between writes
            _writing = false;
        }
    }
}
