using AgentDesk.Contracts.Prices;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Prices;

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
