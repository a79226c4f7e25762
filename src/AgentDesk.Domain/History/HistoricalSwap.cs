namespace AgentDesk.Domain.History;

/// <summary>
/// One closed trade in the history read model: a sale of (part of) a position, with the rule or request that closed it,
/// or a pending trigger order that was cancelled before it filled (<see cref="CloseReason"/> <c>cancelled</c>, no prices,
/// no size). <see cref="Id"/> is the sale's <c>historicalSwapId</c> (a cancelled order's is <c>cancel-{positionId}</c>),
/// so writing the same outcome twice stores one row.
/// </summary>
public sealed record HistoricalSwap(
    string Id,
    string Organization,
    Guid AgentId,
    string WalletAddress,
    string Symbol,
    string? TokenAddress,
    string Side,
    string CloseReason,
    int? LadderIndex,
    decimal? OpenPrice,
    DateTimeOffset OpenedAt,
    decimal? ClosePrice,
    DateTimeOffset ClosedAt,
    decimal Size,
    decimal Leverage,
    bool PositionClosed,
    decimal RealizedPnlUsd,
    decimal FeesUsd,
    string PositionId,
    Guid? BatchId,
    string? OpenTransactionHash,
    string? CloseTransactionHash)
{
    public const string Cancelled = "cancelled";

    /// <summary>A sale, as opposed to an order cancelled before it filled: only sales count in performance.</summary>
    public bool IsSale => CloseReason != Cancelled;

    public TimeSpan Held => ClosedAt - OpenedAt;
}

/// <summary>Where a page of history starts: after this trade, in the order newest first (close time, then id).</summary>
public sealed record HistoryCursor(DateTimeOffset ClosedAt, string Id)
{
    /// <summary>Whether a trade comes after the cursor in the newest-first order.</summary>
    public bool Precedes(HistoricalSwap trade) =>
        trade.ClosedAt < ClosedAt || (trade.ClosedAt == ClosedAt && string.CompareOrdinal(trade.Id, Id) < 0);
}

/// <summary>
/// Which closed trades to list, newest first: an organisation's, narrowed by agent, wallet, symbol and a close-time range
/// (<see cref="From"/> inclusive, <see cref="To"/> exclusive), starting after <see cref="After"/>.
/// </summary>
public sealed record HistoryQuery(
    Guid? AgentId = null,
    string? WalletAddress = null,
    string? Symbol = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    HistoryCursor? After = null,
    int Limit = HistoryQuery.DefaultLimit)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1_000;

    public bool Matches(HistoricalSwap trade) =>
        (AgentId is null || trade.AgentId == AgentId)
        && (WalletAddress is null || string.Equals(trade.WalletAddress, WalletAddress, StringComparison.OrdinalIgnoreCase))
        && (Symbol is null || string.Equals(trade.Symbol, Symbol, StringComparison.OrdinalIgnoreCase))
        && (From is null || trade.ClosedAt >= From)
        && (To is null || trade.ClosedAt < To)
        && (After is null || After.Precedes(trade));
}

/// <summary>A page of closed trades, newest first; <see cref="Next"/> continues after the last one (null at the end).</summary>
public sealed record HistoryPage(IReadOnlyList<HistoricalSwap> Trades, HistoryCursor? Next);
