using Orleans.Concurrency;
using AgentDesk.Contracts.Positions;

namespace AgentDesk.Contracts.Prices;

/// <summary>
/// The price feed of one symbol (key <c>price:{symbol}</c>). Keeps the latest price, publishes every tick
/// on the Orleans stream <see cref="StreamNamespace"/>/{symbol}, and hands it to the symbol's exit-watch
/// pages, which call the positions whose exits the price reaches.
/// </summary>
[Alias("agentdesk.price-feed")]
public interface IPriceFeedGrain : IGrainWithStringKey
{
    public const string StreamProvider = "prices";
    public const string StreamNamespace = "ticks";

    [Alias("push")]
    Task PushAsync(decimal priceUsd, DateTimeOffset at);

    [Alias("latest")]
    Task<PriceTick?> GetLatestAsync();

    /// <summary>An exit-watch page that holds positions asks to receive ticks.</summary>
    [Alias("activate-page")]
    Task ActivatePageAsync(int page);
}

/// <summary>
/// Prices at which a position must be looked at: at or below <see cref="Lower"/>, at or above
/// <see cref="Upper"/>. Between them nothing about the position can change.
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.envelope")]
public sealed record WatchEnvelope([property: Id(0)] decimal? Lower, [property: Id(1)] decimal? Upper);

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

    [OneWay, Alias("on-price")]
    Task OnPriceAsync(PriceTick tick);

    [Alias("count")]
    Task<int> CountAsync();
}

/// <summary>Every symbol that has ever had a price (one grain, key <see cref="Key"/>), for <c>GET /prices</c>.</summary>
[Alias("agentdesk.price-directory")]
public interface IPriceDirectoryGrain : IGrainWithStringKey
{
    public const string Key = "prices:directory";

    [Alias("add")]
    Task AddAsync(string symbol);

    [Alias("symbols")]
    Task<string[]> GetSymbolsAsync();
}
