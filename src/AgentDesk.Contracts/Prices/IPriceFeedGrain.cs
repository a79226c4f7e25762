using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Prices;

/// <summary>
/// The price feed of one symbol (key <c>price:{symbol}</c>). Guards every tick (bounds, outliers held until
/// confirmed; docs/domain.md, "Prices"), keeps the last accepted price, publishes accepted ticks on the Orleans
/// stream <see cref="StreamNamespace"/>/{symbol}, and hands them to the symbol's exit-watch pages, which call
/// the positions whose exits the price reaches.
/// </summary>
[Alias("agentdesk.price-feed")]
public interface IPriceFeedGrain : IGrainWithStringKey
{
    public const string StreamProvider = "prices";
    public const string StreamNamespace = "ticks";

    /// <summary>
    /// Offers a tick; the answer says whether it was accepted, held as an outlier, or confirmed a held one. A held tick is
    /// reported (event <c>price.held</c>) to <paramref name="reportTo"/>, the organisation of the oracle that pushed it.
    /// </summary>
    [Alias("push")]
    Task<Result<PriceFeedView>> PushAsync(decimal priceUsd, DateTimeOffset at, string? reportTo = null);

    /// <summary>The admin accepts the held tick as the price.</summary>
    [Alias("accept-held")]
    Task<Result<PriceFeedView>> AcceptHeldAsync(DateTimeOffset at);

    /// <summary>The last accepted tick, or null before the first.</summary>
    [Alias("latest")]
    Task<PriceTick?> GetLatestAsync();

    [Alias("view")]
    Task<PriceFeedView> GetViewAsync();

    /// <summary>An exit-watch page that holds positions asks to receive ticks.</summary>
    [Alias("activate-page")]
    Task ActivatePageAsync(int page);
}

/// <summary>An accepted price. <see cref="Sequence"/> counts the feed's accepted ticks, so a reader can tell which it has seen.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.price-tick")]
public sealed record PriceTick(
    [property: Id(0)] string Symbol,
    [property: Id(1)] decimal PriceUsd,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] long Sequence);

/// <summary>What happened to a pushed tick.</summary>
public enum PriceDecision
{
    Accepted,
    Held,
    Confirmed,
    /// <summary>Older than the feed's last reading, or the same again: nothing changed.</summary>
    Ignored,
}

[GenerateSerializer, Immutable, Alias("agentdesk.price-feed-view")]
public sealed record PriceFeedView(
    [property: Id(0)] string Symbol,
    [property: Id(1)] PriceTick? Latest,
    [property: Id(2)] decimal? HeldPriceUsd,
    [property: Id(3)] DateTimeOffset? HeldAt,
    [property: Id(4)] PriceDecision? Decision);
