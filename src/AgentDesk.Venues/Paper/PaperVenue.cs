using System.ComponentModel.DataAnnotations;
using System.Text;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Positions;
using Microsoft.Extensions.Options;

namespace AgentDesk.Venues.Paper;

/// <summary>Section <c>AgentDesk:PaperVenue</c>.</summary>
public sealed class PaperVenueOptions
{
    public const string Section = "AgentDesk:PaperVenue";

    /// <summary>Slippage applied against the trader on every fill, in bps of the feed price.</summary>
    [Range(0, 10_000)]
    public int SlippageBps { get; set; } = 5;

    /// <summary>
    /// Simulated time to fill, in ms (default 0): rehearses clients and operations against a venue that takes time, as a
    /// chain does (a batch then runs long enough to watch its progress, or to interrupt it).
    /// </summary>
    [Range(0, 60_000)]
    public int FillLatencyMs { get; set; }

    /// <summary>The chain id reported on simulated transactions (Arbitrum One by default, as Symphony's examples show).</summary>
    [Range(1, long.MaxValue)]
    public long ChainId { get; set; } = 42161;
}

/// <summary>
/// Fills at the latest feed price moved against the trader by <see cref="PaperVenueOptions.SlippageBps"/>.
/// Honours <c>maxSlippageBps</c> and the minimum out, refuses to fill without a price, and marks every
/// transaction as simulated (explorer URLs use the <c>paper://</c> scheme; hashes are keccak of the order id).
/// Nothing leaves the process, so there is nothing to reconcile after a crash.
/// </summary>
public sealed class PaperVenue(IOptions<PaperVenueOptions> options, TimeProvider clock) : IExecutionVenue
{
    private readonly PaperVenueOptions _options = options.Value;

    public bool SendsOutsideCluster => false;

    public async Task<Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default)
    {
        await LatencyAsync(cancellationToken);
        return Open(order);
    }

    public async Task<Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default)
    {
        await LatencyAsync(cancellationToken);
        return Close(order);
    }

    private Task LatencyAsync(CancellationToken cancellationToken) =>
        _options.FillLatencyMs > 0 ? Task.Delay(TimeSpan.FromMilliseconds(_options.FillLatencyMs), clock, cancellationToken) : Task.CompletedTask;

    private Outcome<VenueFill> Open(OpenOrder order)
    {
        if (Refuse(order.LatestPrice, order.MaxSlippageBps) is { } refused) return refused;
        var price = FillPrice(order.LatestPrice!.Value, buying: order.Side == Side.Long);
        var opened = PositionMath.Open(order.Side, order.CollateralUsdc, order.Leverage, price, order.TokenDecimals);
        if (!opened.IsSuccess) return opened.Rejection!;
        var size = opened.Value!.Size;
        if (size < order.MinTokenOut)
            return new Rejection(Errors.MinOutNotMet,
                $"The fill would give {size} {order.Symbol}, below minTokenOut {order.MinTokenOut}.").With("tokenOut", size);
        return Fill(order.OrderId, price, size);
    }

    private Outcome<VenueFill> Close(CloseOrder order)
    {
        if (Refuse(order.LatestPrice, order.MaxSlippageBps) is { } refused) return refused;
        if (order.Size <= 0) return new Rejection(Errors.InvalidAmount, "Nothing to sell.");
        var price = FillPrice(order.LatestPrice!.Value, buying: order.Side == Side.Short);
        var usdcOut = Money.Checked<decimal>(() => Money.FloorUsdc(order.Size * price), "The sale's proceeds");
        if (!usdcOut.IsSuccess) return usdcOut.Rejection!;
        if (usdcOut.Value < order.MinUsdcOut)
            return new Rejection(Errors.MinOutNotMet,
                $"The sale would return {usdcOut.Value} USDC, below minUsdcOut {order.MinUsdcOut}.").With("usdcOut", usdcOut.Value);
        return Fill(order.OrderId, price, order.Size);
    }

    public async Task<Outcome<VenueFill>> UpdateLadderAsync(LadderOrder order, CancellationToken cancellationToken = default)
    {
        await LatencyAsync(cancellationToken);
        return Fill(order.OrderId, 0m, 0m);
    }

    public Task<Outcome<VenueFill>?> ReconcileAsync(VenueOrder order, CancellationToken cancellationToken = default) =>
        Task.FromResult<Outcome<VenueFill>?>(null);

    /// <summary>Paper trades need no contract: any well-formed address will do.</summary>
    public Task<Rejection?> CheckAddressAsync(string address, int? tokenDecimals, CancellationToken cancellationToken = default) =>
        Task.FromResult<Rejection?>(null);

    /// <summary>A paper vault trades no contract's capital: the address is a label, and the first vault on it holds it.</summary>
    public Task<Rejection?> CheckVaultClaimAsync(string vaultAddress, string organization, string vaultId, string? adminSignature,
        CancellationToken cancellationToken = default) => Task.FromResult<Rejection?>(null);

    private Rejection? Refuse(decimal? latestPrice, int maxSlippageBps)
    {
        if (latestPrice is not > 0)
            return new Rejection(Errors.NoPrice, "The paper venue has no price for this symbol; push one to /api/v1/prices first.");
        if (_options.SlippageBps > maxSlippageBps)
            return new Rejection(Errors.SlippageExceeded, $"The venue's slippage of {_options.SlippageBps} bps exceeds maxSlippageBps {maxSlippageBps}.")
                .With("slippageBps", _options.SlippageBps);
        return null;
    }

    // Slippage always works against the trader: buys fill higher, sells lower.
    private decimal FillPrice(decimal price, bool buying) =>
        price * (buying ? 1 + _options.SlippageBps / 10_000m : 1 - _options.SlippageBps / 10_000m);

    private VenueFill Fill(string orderId, decimal price, decimal size)
    {
        var hash = Hex.Encode(Eip712Encoding.Keccak(Encoding.UTF8.GetBytes("paper:" + orderId)));
        return new VenueFill(price, size, $"paper-{orderId}", hash, $"paper://tx/{hash}", _options.ChainId, Simulated: true, clock.GetUtcNow());
    }
}
