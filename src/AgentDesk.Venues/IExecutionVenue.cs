using AgentDesk.Domain.Common;

namespace AgentDesk.Venues;

/// <summary>
/// Where trades are executed. The caller passes the latest feed price it observed; the venue decides the
/// fill (price, size) or refuses. Every fill carries a transaction reference.
/// </summary>
public interface IExecutionVenue
{
    /// <summary>Buys (LONG) or sells short (SHORT) <see cref="OpenOrder.CollateralUsdc"/> × leverage of notional.</summary>
    Task<Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default);

    /// <summary>Sells (LONG) or buys back (SHORT) <see cref="CloseOrder.Size"/> tokens.</summary>
    Task<Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default);
}

/// <param name="OrderId">Unique per order; the venue's transaction reference derives from it.</param>
/// <param name="LatestPrice">The latest feed price the caller saw, or null when it has none.</param>
public sealed record OpenOrder(
    string OrderId, string Symbol, Side Side, decimal CollateralUsdc, decimal Leverage, decimal? LatestPrice,
    int TokenDecimals, decimal MinTokenOut, int MaxSlippageBps);

public sealed record CloseOrder(
    string OrderId, string Symbol, Side Side, decimal Size, decimal? LatestPrice, decimal MinUsdcOut, int MaxSlippageBps);

/// <summary>A fill: price, token size, and the transaction that made it.</summary>
public sealed record VenueFill(
    decimal Price, decimal Size, string TransactionId, string TransactionHash, string? ExplorerUrl, int ChainId, bool Simulated, DateTimeOffset At);
