using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Prices;

public sealed class ExitWatchState
{
    public Dictionary<string, WatchEnvelope> Positions { get; set; } = [];
    public bool Activated { get; set; }
}

/// <summary>
/// One page of a symbol's exit index (<see cref="ExitIndex"/>). A tick is compared with every envelope in a plain
/// loop and only the positions it reaches are called, one-way, so the page never waits on a position and never
/// blocks the feed.
/// </summary>
[GrainType("exit-watch")]
public sealed class ExitWatchGrain(
    [PersistentState(StorageNames.ExitWatch, StorageNames.Provider)] IPersistentState<ExitWatchState> state) : Grain, IExitWatchGrain
{
    public async Task WatchAsync(string positionKey, WatchEnvelope envelope)
    {
        if (!state.State.Activated)
        {
            var (symbol, page) = GrainKeys.ParseExitWatch(this.GetPrimaryKeyString());
            await GrainFactory.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).ActivatePageAsync(page);
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
}
