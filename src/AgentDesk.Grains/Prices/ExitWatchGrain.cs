using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.Logging;

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
[GrainType("exit-watch")]
public sealed class ExitWatchGrain(
    [PersistentState(StorageNames.ExitWatch, StorageNames.Provider)] IPersistentState<ExitWatchState> state,
    ILogger<ExitWatchGrain> logger) : Grain, IExitWatchGrain
{
    private TickDelivery? _delivery;

    private TickDelivery Delivery => _delivery ??= new TickDelivery(this, (key, tick) => GrainFactory.GetGrain<IPositionGrain>(key).OnPriceAsync(tick), logger);

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
                Delivery.Send(key, tick);
        }
        return Task.CompletedTask;
    }
}
