using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Positions;
using AgentDesk.Grains.Events;

namespace AgentDesk.Grains.Positions;

/// <summary>The events a position records: fills, exits (with the rule that fired) and cancelled orders.</summary>
public static class PositionEvents
{
    /// <summary>The lifecycle opened, or its trigger order filled (<paramref name="triggered"/>).</summary>
    public static EventDraft Opened(string positionKey, PositionLifecycle l, bool triggered)
    {
        var (agentId, account, symbol) = GrainKeys.ParsePosition(positionKey);
        var p = l.Position!;
        var tx = l.OpenTransaction;
        return EventDrafts.Create(l.Organization, $"fill:{l.PositionId}:open", EventTypes.PositionFilled, agentId, account, symbol, tx?.At ?? l.UpdatedAt,
            new FillEventData(l.PositionId, "open", triggered, l.Side.ToWire(), l.TokenAddress, p.Size, p.EntryPrice, l.CollateralUsdc, p.Size, p.EntryPrice,
                l.Leverage, p.MarginUsdc, l.Fees, l.Fees.Sum(f => f.AmountUsdc), l.BatchId, tx?.At ?? l.CreatedAt, tx));
    }

    /// <summary>The venue filled an add of <paramref name="collateral"/> with <paramref name="size"/> at <paramref name="price"/>.</summary>
    public static EventDraft Added(string positionKey, PositionLifecycle l, string commandId, decimal collateral, decimal size, decimal price,
        TransactionRef transaction)
    {
        var (agentId, account, symbol) = GrainKeys.ParsePosition(positionKey);
        var p = l.Position!;
        return EventDrafts.Create(l.Organization, $"fill:{l.PositionId}:add:{commandId}", EventTypes.PositionFilled, agentId, account, symbol, transaction.At,
            new FillEventData(l.PositionId, "add", false, l.Side.ToWire(), l.TokenAddress, size, price, collateral, p.Size, p.EntryPrice, l.Leverage,
                p.MarginUsdc, [], 0m, l.BatchId, l.OpenTransaction?.At ?? l.CreatedAt, transaction));
    }

    /// <summary>One sale of the position (<paramref name="sale"/>), recorded after <paramref name="reduction"/> was applied.</summary>
    public static EventDraft Exited(string positionKey, PositionLifecycle l, ExitEvent sale, Reduction reduction, decimal entryPrice)
    {
        var (agentId, account, symbol) = GrainKeys.ParsePosition(positionKey);
        IReadOnlyList<Domain.Agents.FeeCharge> fees = reduction.Closed ? l.Fees : [];
        return EventDrafts.Create(l.Organization, $"exit:{sale.HistoricalSwapId}", EventTypes.PositionExited, agentId, account, symbol, sale.At,
            new ExitEventData(l.PositionId, sale.HistoricalSwapId, l.Exits.Count - 1, sale.Reason, sale.LadderIndex, l.Side.ToWire(), l.TokenAddress,
                l.Leverage, entryPrice, l.OpenTransaction?.At ?? l.CreatedAt, sale.Price, sale.At, sale.Size, reduction.After.Size, l.OriginalSize,
                reduction.Closed, sale.RealizedPnlUsdc, l.RealizedPnlUsdc, reduction.ReleasedMarginUsdc, reduction.PayoutUsdc, fees,
                fees.Sum(f => f.AmountUsdc), l.BatchId, l.OpenTransaction, sale.Transaction));
    }

    /// <summary>A pending trigger order was cancelled and its collateral handed back.</summary>
    public static EventDraft Cancelled(string positionKey, PositionLifecycle l)
    {
        var (agentId, account, symbol) = GrainKeys.ParsePosition(positionKey);
        return EventDrafts.Create(l.Organization, $"cancel:{l.PositionId}", EventTypes.PositionCancelled, agentId, account, symbol, l.UpdatedAt,
            new CancelEventData(l.PositionId, l.CloseReason ?? CloseReasons.Manual, l.Side.ToWire(), l.Order?.TriggerPrice, l.CollateralUsdc, l.BatchId));
    }
}
