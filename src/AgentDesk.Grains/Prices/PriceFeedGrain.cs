using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
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
