using AgentDesk.Contracts.Prices;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Prices;

public sealed class PriceDirectoryState
{
    public SortedSet<string> Symbols { get; set; } = [];
}

/// <summary>Every symbol that has had a price, for <c>GET /prices</c> without a symbol list.</summary>
[GrainType("price-directory")]
public sealed class PriceDirectoryGrain(
    [PersistentState(StorageNames.PriceDirectory, StorageNames.Provider)] IPersistentState<PriceDirectoryState> state) : Grain, IPriceDirectoryGrain
{
    public async Task AddAsync(string symbol)
    {
        if (state.State.Symbols.Add(symbol)) await state.WriteStateAsync();
    }

    public Task<string[]> GetSymbolsAsync() => Task.FromResult(state.State.Symbols.ToArray());
}
