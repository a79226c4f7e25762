using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;

namespace AgentDesk.Venues;

/// <summary>
/// Where trades are executed (docs/venues.md). The caller passes the latest feed price it observed; the venue
/// decides the fill (price, size) or refuses. Every fill carries a transaction reference.
/// </summary>
public interface IExecutionVenue
{
    /// <summary>
    /// True when an order leaves the cluster (a chain transaction): the caller then stores the pending order
    /// before sending it and reconciles it with <see cref="ReconcileAsync"/> after a crash, instead of sending again.
    /// </summary>
    bool SendsOutsideCluster { get; }

    /// <summary>Buys (LONG) or sells short (SHORT) <see cref="OpenOrder.CollateralUsdc"/> × leverage of notional.</summary>
    Task<Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default);

    /// <summary>Sells (LONG) or buys back (SHORT) <see cref="CloseOrder.Size"/> tokens.</summary>
    Task<Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default);

    /// <summary>
    /// Relays an agent's signed exit-ladder update (an <c>UpdateExitLadder</c> intent). It moves no money; a venue that
    /// keeps the ladder (a chain) records it like an order, so the answer is a fill with no price and no size.
    /// </summary>
    Task<Outcome<VenueFill>> UpdateLadderAsync(LadderOrder order, CancellationToken cancellationToken = default);

    /// <summary>
    /// What became of an order that may have been sent: its fill or refusal as the venue recorded it, or null when
    /// the venue never executed it (it is then safe to send).
    /// </summary>
    Task<Outcome<VenueFill>?> ReconcileAsync(VenueOrder order, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks an address an operator registers for trading (a vault, or a token with its decimals): null when the venue
    /// can trade with it. The EVM venue requires a contract there (and, for a token, the decimals the contract reports).
    /// </summary>
    Task<Rejection?> CheckAddressAsync(string address, int? tokenDecimals, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checks that <paramref name="organization"/> may create vault <paramref name="vaultId"/> on the contract at
    /// <paramref name="vaultAddress"/>: null when it may. Where a vault holds real capital (a chain), <paramref name="adminSignature"/>
    /// must be the contract's admin signing that <see cref="VaultClaim"/> on the venue's chain (docs/domain.md, "Vaults"); a
    /// paper vault holds none, and its address needs no proof.
    /// </summary>
    Task<Rejection?> CheckVaultClaimAsync(string vaultAddress, string organization, string vaultId, string? adminSignature,
        CancellationToken cancellationToken = default);
}

/// <summary>What every order names: a unique id (the venue's records and transaction reference derive from it), whose it is, and the token.</summary>
public abstract record VenueOrder(string OrderId, Guid AgentId, string Account, string Symbol, string? TokenAddress, Side Side, int TokenDecimals);

/// <param name="LatestPrice">The latest feed price the caller saw, or null when it has none.</param>
/// <param name="Authorization">The agent's signed intent behind a vault trade; null for batch trades.</param>
public sealed record OpenOrder(
    string OrderId, Guid AgentId, string Account, string Symbol, string? TokenAddress, Side Side, int TokenDecimals,
    decimal CollateralUsdc, decimal Leverage, decimal? LatestPrice, decimal MinTokenOut, int MaxSlippageBps,
    IntentAuthorization? Authorization = null)
    : VenueOrder(OrderId, AgentId, Account, Symbol, TokenAddress, Side, TokenDecimals);

/// <param name="Exit">For an automatic exit of a vault position: the signed ladder and the rung that fired.</param>
public sealed record CloseOrder(
    string OrderId, Guid AgentId, string Account, string Symbol, string? TokenAddress, Side Side, int TokenDecimals,
    decimal Size, decimal? LatestPrice, decimal MinUsdcOut, int MaxSlippageBps,
    IntentAuthorization? Authorization = null, LadderExit? Exit = null)
    : VenueOrder(OrderId, AgentId, Account, Symbol, TokenAddress, Side, TokenDecimals);

/// <summary>An agent's signed replacement of a vault position's exit ladder.</summary>
public sealed record LadderOrder(
    string OrderId, Guid AgentId, string Account, string Symbol, string? TokenAddress, int TokenDecimals,
    IReadOnlyList<ExitRule> Ladder, IntentAuthorization Authorization)
    : VenueOrder(OrderId, AgentId, Account, Symbol, TokenAddress, Side.Long, TokenDecimals);

/// <summary>The ladder an agent signed and the rung an automatic exit fills.</summary>
public sealed record LadderExit(IReadOnlyList<ExitRule> Ladder, int RuleIndex);

/// <summary>A fill: price, token size, and the transaction that made it (a ladder update: no price, no size).</summary>
public sealed record VenueFill(
    decimal Price, decimal Size, string TransactionId, string TransactionHash, string? ExplorerUrl, long ChainId, bool Simulated, DateTimeOffset At);
