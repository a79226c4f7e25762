using System.Text.Json;
using AgentDesk.Contracts.Events;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.History;

namespace AgentDesk.Grains.History;

/// <summary>
/// The history read model as a projection of the event log: every <c>position.exited</c> becomes a closed trade, every
/// <c>position.cancelled</c> a cancelled order. The event already carries everything a row needs (open and close
/// price and time, size, P/L, fees, both transactions), recorded by the same write as the exit itself.
/// </summary>
public static class TradeProjection
{
    public static IReadOnlyList<HistoricalSwap> From(IEnumerable<EventRecord> events)
    {
        var trades = new List<HistoricalSwap>();
        foreach (var e in events)
        {
            if (e.AgentId is not { } agentId || e.Symbol is null) continue;
            switch (e.Type)
            {
                case EventTypes.PositionExited:
                    var exit = JsonSerializer.Deserialize<ExitEventData>(e.Data, EventJson.Options)!;
                    trades.Add(new HistoricalSwap(exit.HistoricalSwapId, e.Organization, agentId, e.Account ?? "", e.Symbol, exit.TokenAddress,
                        exit.Side, exit.Reason, exit.LadderIndex, exit.EntryPrice, Microseconds(exit.OpenedAt), exit.ExitPrice, Microseconds(exit.ClosedAt), exit.SizeClosed,
                        exit.Leverage, exit.Closed, exit.RealizedPnlUsd, exit.FeesUsd, exit.PositionId, exit.BatchId,
                        exit.OpenTransaction?.Hash, exit.CloseTransaction.Hash));
                    break;
                case EventTypes.PositionCancelled:
                    var cancel = JsonSerializer.Deserialize<CancelEventData>(e.Data, EventJson.Options)!;
                    trades.Add(new HistoricalSwap($"cancel-{cancel.PositionId}", e.Organization, agentId, e.Account ?? "", e.Symbol, null,
                        cancel.Side, HistoricalSwap.Cancelled, null, cancel.TriggerPrice, Microseconds(e.At), null, Microseconds(e.At), 0m, 0m, true, 0m, 0m,
                        cancel.PositionId, cancel.BatchId, null, null));
                    break;
            }
        }
        return trades;
    }

    /// <summary>Times in UTC to the microsecond, as PostgreSQL keeps them: a page cursor then compares equal to the row it names.</summary>
    private static DateTimeOffset Microseconds(DateTimeOffset at) => new(at.UtcTicks - at.UtcTicks % 10, TimeSpan.Zero);
}
