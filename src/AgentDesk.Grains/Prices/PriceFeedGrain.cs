using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;
using Orleans.Streams;

namespace AgentDesk.Grains.Prices;

public sealed class PriceFeedState
{
    public PriceTick? Latest { get; set; }

    /// <summary>Exit-watch pages that hold positions on this symbol.</summary>
    public SortedSet<int> ActivePages { get; set; } = [];
}

/// <summary>
/// A symbol's price feed. Each tick is stored as the latest price, published on the <c>prices</c> stream for
/// any observer, and handed (one-way) to the symbol's active exit-watch pages. See docs/cluster.md for why
/// exits use the watch pages rather than one stream subscription per position.
/// </summary>
[GrainType("price-feed")]
public sealed class PriceFeedGrain(
    [PersistentState(StorageNames.PriceFeed, StorageNames.Provider)] IPersistentState<PriceFeedState> state) : Grain, IPriceFeedGrain
{
    private IAsyncStream<PriceTick>? _stream;

    private string Symbol => this.GetPrimaryKeyString()["price:".Length..];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(IPriceFeedGrain.StreamProvider)
            .GetStream<PriceTick>(StreamId.Create(IPriceFeedGrain.StreamNamespace, Symbol));
        return Task.CompletedTask;
    }

    public async Task PushAsync(decimal priceUsd, DateTimeOffset at)
    {
        if (priceUsd <= 0) throw new ArgumentOutOfRangeException(nameof(priceUsd), "Prices are positive.");
        var tick = new PriceTick(Symbol, priceUsd, at);
        var first = state.State.Latest is null;
        state.State.Latest = tick;
        await state.WriteStateAsync();
        foreach (var page in state.State.ActivePages)
            _ = GrainFactory.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(Symbol, page)).OnPriceAsync(tick);
        await _stream!.OnNextAsync(tick);
        if (first) await GrainFactory.GetGrain<IPriceDirectoryGrain>(IPriceDirectoryGrain.Key).AddAsync(Symbol);
    }

    public Task<PriceTick?> GetLatestAsync() => Task.FromResult(state.State.Latest);

    public async Task ActivatePageAsync(int page)
    {
        if (state.State.ActivePages.Add(page)) await state.WriteStateAsync();
    }
}

public sealed class PriceDirectoryState
{
    public SortedSet<string> Symbols { get; set; } = [];
}

[GrainType("price-directory")]
public sealed class PriceDirectoryGrain(
    [PersistentState("priceDirectory", StorageNames.Provider)] IPersistentState<PriceDirectoryState> state) : Grain, IPriceDirectoryGrain
{
    public async Task AddAsync(string symbol)
    {
        if (state.State.Symbols.Add(symbol)) await state.WriteStateAsync();
    }

    public Task<string[]> GetSymbolsAsync() => Task.FromResult(state.State.Symbols.ToArray());
}

public sealed class ExitWatchState
{
    public Dictionary<string, WatchEnvelope> Positions { get; set; } = [];
    public bool Activated { get; set; }
}

/// <summary>
/// One page of a symbol's exit index. A tick is compared with every envelope in a plain loop and only the
/// positions it reaches are called, one-way, so the page never waits on a position and never blocks the feed.
/// </summary>
[GrainType("exit-watch")]
public sealed class ExitWatchGrain(
    [PersistentState(StorageNames.ExitWatch, StorageNames.Provider)] IPersistentState<ExitWatchState> state) : Grain, IExitWatchGrain
{
    public async Task WatchAsync(string positionKey, WatchEnvelope envelope)
    {
        if (!state.State.Activated)
        {
            var parts = this.GetPrimaryKeyString().Split(':');
            await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(parts[1])).ActivatePageAsync(int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
            state.State.Activated = true;
        }
        if (state.State.Positions.TryGetValue(positionKey, out var known) && known == envelope) return;
        state.State.Positions[positionKey] = envelope;
        await state.WriteStateAsync();
    }

    public async Task UnwatchAsync(string positionKey)
    {
        if (state.State.Positions.Remove(positionKey)) await state.WriteStateAsync();
    }

    public Task OnPriceAsync(PriceTick tick)
    {
        foreach (var (key, envelope) in state.State.Positions)
        {
            if (new ExitEnvelope(envelope.Lower, envelope.Upper).IsReachedBy(tick.PriceUsd))
                _ = GrainFactory.GetGrain<IPositionGrain>(key).OnPriceAsync(tick);
        }
        return Task.CompletedTask;
    }

    public Task<int> CountAsync() => Task.FromResult(state.State.Positions.Count);
}
