using Orleans.Concurrency;

namespace AgentDesk.Contracts.Prices;

/// <summary>
/// One page of a symbol's exit index (key <c>watch:{symbol}:{page}</c>): positions and their envelopes.
/// On a tick it compares the price with every envelope and calls only the positions it reaches.
/// </summary>
[Alias("agentdesk.exit-watch")]
public interface IExitWatchGrain : IGrainWithStringKey
{
    public const int PagesPerSymbol = 256;

    [Alias("watch")]
    Task WatchAsync(string positionKey, WatchEnvelope envelope);

    [Alias("unwatch")]
    Task UnwatchAsync(string positionKey);

    /// <summary>A tick for this page's symbol; the feed re-sends the newest one until the page acknowledges it.</summary>
    [Alias("on-price")]
    Task OnPriceAsync(PriceTick tick);
}

/// <summary>
/// Prices at which a position must be looked at: at or below <see cref="Lower"/>, at or above
/// <see cref="Upper"/>. Between them nothing about the position can change.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.envelope")]
public sealed record WatchEnvelope([property: Id(0)] decimal? Lower, [property: Id(1)] decimal? Upper);
