using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Positions;

/// <summary>
/// An open position: <see cref="Size"/> tokens at a size-weighted <see cref="EntryPrice"/>, backed by
/// <see cref="MarginUsdc"/> of the account's collateral at <see cref="Leverage"/>.
/// </summary>
public sealed record PositionState(
    Side Side,
    decimal Size,
    decimal EntryPrice,
    decimal Leverage,
    decimal MarginUsdc,
    decimal RealizedPnlUsdc,
    int SizeDecimals);

/// <summary>The result of selling part or all of a position.</summary>
public sealed record Reduction(PositionState After, decimal SoldSize, decimal RealizedPnlUsdc, decimal ReleasedMarginUsdc, decimal PayoutUsdc)
{
    public bool Closed => After.Size == 0;
}

/// <summary>A position marked at a price: value and unrealised P/L in USD and in the chain's native asset.</summary>
public sealed record PositionValuation(
    decimal ValueUsd,
    decimal ValueNative,
    decimal ProfitLossUsd,
    decimal ProfitLossNative,
    decimal ProfitLossPercent,
    decimal PriceChangePercent);

/// <summary>
/// Position arithmetic (docs/domain.md, "Positions"): open, add, reduce, close, mark. Every operation that
/// multiplies amounts by prices is overflow-checked: with extreme but bounded inputs it returns an
/// <see cref="Errors.ArithmeticOverflow"/> rejection instead of throwing.
/// </summary>
public static class PositionMath
{
    /// <summary>Opens with <paramref name="collateralUsdc"/> of margin; the size is floored to the token's decimals.</summary>
    public static Outcome<PositionState> Open(Side side, decimal collateralUsdc, decimal leverage, decimal price, int sizeDecimals) =>
        Money.Checked(() => OpenWithin(side, collateralUsdc, leverage, price, sizeDecimals), "The position's size");

    private static Outcome<PositionState> OpenWithin(Side side, decimal collateralUsdc, decimal leverage, decimal price, int sizeDecimals)
    {
        if (price <= 0) return new Rejection(Errors.NoPrice, "A position needs a positive price to open.");
        if (collateralUsdc <= 0) return new Rejection(Errors.InvalidAmount, "Collateral must be positive.");
        var size = Money.FloorMultiplyDivide(collateralUsdc, leverage, price, sizeDecimals);
        if (size <= 0)
            return new Rejection(Errors.SizeTooSmall, $"{collateralUsdc} USDC at {price} buys less than one unit of the token's smallest denomination.");
        return new PositionState(side, size, price, leverage, collateralUsdc, 0m, sizeDecimals);
    }

    /// <summary>
    /// Adds <paramref name="addedSize"/> bought with <paramref name="collateralUsdc"/> of margin at <paramref name="price"/>
    /// (the venue's fill); the entry becomes the size-weighted average of old and new.
    /// </summary>
    public static Outcome<PositionState> Add(PositionState position, decimal collateralUsdc, decimal price, decimal addedSize) =>
        Money.Checked<PositionState>(() =>
        {
            if (position.Size <= 0) return new Rejection(Errors.PositionNotFound, "There is no open position to add to.");
            if (addedSize <= 0 || price <= 0) return new Rejection(Errors.InvalidAmount, "An add needs a positive size and price.");
            var newSize = position.Size + addedSize;
            var entry = (position.Size * position.EntryPrice + addedSize * price) / newSize;
            return position with { Size = newSize, EntryPrice = entry, MarginUsdc = position.MarginUsdc + collateralUsdc };
        }, "The position after the add");

    /// <summary>
    /// Sells <paramref name="size"/> at <paramref name="price"/>. Margin is released in proportion (all of
    /// it on the last sale); the payout is released margin plus P/L, never below zero, floored to USDC units.
    /// </summary>
    public static Outcome<Reduction> Reduce(PositionState position, decimal size, decimal price) =>
        Money.Checked(() => ReduceWithin(position, size, price), "The sale's proceeds");

    private static Outcome<Reduction> ReduceWithin(PositionState position, decimal size, decimal price)
    {
        if (price <= 0) return new Rejection(Errors.NoPrice, "A position needs a positive price to be reduced.");
        if (size <= 0) return new Rejection(Errors.InvalidAmount, "The amount to reduce must be positive.");
        if (size > position.Size)
            return new Rejection(Errors.InsufficientPositionSize, $"Cannot sell {size}; the position holds {position.Size}.")
                .With("size", position.Size);

        var closes = size == position.Size;
        var released = closes ? position.MarginUsdc : Money.FloorUsdc(position.MarginUsdc * size / position.Size);
        var marketPnl = Money.FloorUsdc(position.Side.Sign() * (price - position.EntryPrice) * size);
        var payout = Math.Max(0m, Money.FloorUsdc(released + marketPnl));
        // A loss beyond the margin released is the venue's, not the account's: the P/L booked is what the account's money
        // moved by (payout − margin released), so its realised P/L, the trade history and the daily loss counters agree with it.
        var pnl = payout - released;
        var after = position with
        {
            Size = position.Size - size,
            MarginUsdc = position.MarginUsdc - released,
            RealizedPnlUsdc = position.RealizedPnlUsdc + pnl,
        };
        return new Reduction(after, size, pnl, released, payout);
    }

    public static Outcome<Reduction> Close(PositionState position, decimal price) => Reduce(position, position.Size, price);

    /// <summary>
    /// Marks a position. P/L percent is on margin (so it includes leverage); price change percent is the
    /// raw move of the price since entry. Native amounts divide USD by the native asset's price.
    /// </summary>
    public static PositionValuation? Value(PositionState position, decimal price, decimal nativePriceUsd)
    {
        try
        {
            return ValueWithin(position, price, nativePriceUsd);
        }
        catch (OverflowException)
        {
            return null; // a mark beyond decimal's range is shown as unknown rather than failing the listing
        }
    }

    private static PositionValuation ValueWithin(PositionState position, decimal price, decimal nativePriceUsd)
    {
        var valueUsd = position.Size * price;
        var pnlUsd = position.Side.Sign() * (price - position.EntryPrice) * position.Size;
        var pnlPercent = position.MarginUsdc > 0 ? pnlUsd / position.MarginUsdc * 100m : 0m;
        var priceChange = (price - position.EntryPrice) / position.EntryPrice * 100m;
        return new PositionValuation(
            valueUsd,
            ToNative(valueUsd, nativePriceUsd),
            pnlUsd,
            ToNative(pnlUsd, nativePriceUsd),
            pnlPercent,
            priceChange);
    }

    /// <summary>USD in the chain's native asset; 0 without a native price (or beyond decimal's range).</summary>
    public static decimal ToNative(decimal usd, decimal nativePriceUsd)
    {
        try
        {
            return nativePriceUsd > 0 ? usd / nativePriceUsd : 0m;
        }
        catch (OverflowException)
        {
            return 0m;
        }
    }
}
