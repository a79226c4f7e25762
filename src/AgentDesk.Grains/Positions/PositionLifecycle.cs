using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Positions;
using System.Text.Json.Serialization;

namespace AgentDesk.Grains.Positions;

/// <summary>One lifecycle of a position grain: from open (or order placement) to close (or cancellation).</summary>
public sealed class PositionLifecycle
{
    public string PositionId { get; set; } = "";
    public string OpenId { get; set; } = "";
    public string Organization { get; set; } = "";
    public Guid? BatchId { get; set; }
    public PositionStatus Status { get; set; }
    public Side Side { get; set; }
    public decimal Leverage { get; set; }
    public int TokenDecimals { get; set; }
    public string? TokenAddress { get; set; }

    /// <summary>The account grain that receives released margin and P/L; null when the agent's vault allocation does (signed intents).</summary>
    public string? SettleToAccount { get; set; }

    /// <summary>Collateral committed when the lifecycle began (held for a pending order until it fills).</summary>
    public decimal CollateralUsdc { get; set; }

    /// <summary>Fees the subscriber paid to open it (reported once, with the sale that closes it).</summary>
    public List<Domain.Agents.FeeCharge> Fees { get; set; } = [];

    public TriggerOrder? Order { get; set; }
    public PositionState? Position { get; set; }
    public decimal OriginalSize { get; set; }
    public ExitPlan Plan { get; set; } = ExitPlan.None;

    /// <summary>For a vault position: the agent's signed ladder, relayed with each automatic exit.</summary>
    public IntentAuthorization? Authorization { get; set; }

    /// <summary>Where this lifecycle trades (chosen when it opens; its exits and closes go to the same venue).</summary>
    public Venues.VenueKind Venue { get; set; }

    public decimal RealizedPnlUsdc { get; set; }
    public TransactionRef? OpenTransaction { get; set; }

    /// <summary>The transaction of the latest change: the open, an add, a ladder update or a sale.</summary>
    public TransactionRef? LastTransaction { get; set; }
    public List<ExitEvent> Exits { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? CloseReason { get; set; }
    public decimal? ExitPrice { get; set; }

    /// <summary>Settlements queued so far; numbers the next settlement id.</summary>
    public int SettlementCount { get; set; }

    public bool IsLive => Status is PositionStatus.Pending or PositionStatus.Open;

    /// <summary>The id of the next sale's history row: the <c>historicalSwapId</c> of a close.</summary>
    public string NextSwapId => $"{PositionId}:{Exits.Count}";

    /// <summary>
    /// Sales the venue refused so far. A chain records an order id's failure for good (a later send of the id is skipped and
    /// answers the same failure), so a sale tried again after a refusal (an allowance restored, a feed fresh again) goes
    /// out under a new id (<see cref="SaleOrderId"/>). Only a refusal moves it: a sale whose outcome is unknown keeps its id,
    /// so that it is asked about, never sent twice.
    /// </summary>
    public int RefusedSales { get; set; }

    /// <summary>
    /// A sale the venue refused. The refusal spends the order id when the venue said why the order failed; not when it
    /// answered <c>venue_unavailable</c> (nothing was sent, the transaction reverted whole, or the chain's record of the order
    /// could not be read): in that last case the order may have executed, so the same id must be asked again, never replaced.
    /// </summary>
    public void SaleRefused(Rejection refusal)
    {
        if (refusal.Code != Errors.VenueUnavailable) RefusedSales++;
    }

    /// <summary>When a tick may next try the automatic exit the venue refused (<see cref="ExitRetry.Delay"/>); null when none waits.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? ExitRetryAt { get; set; }

    /// <summary>An automatic exit's sale the venue refused: the order id as for any sale, and the wait before a tick tries again.</summary>
    public void ExitRefused(Rejection refusal, DateTimeOffset now, TimeSpan retryPeriod)
    {
        SaleRefused(refusal);
        ExitRetryAt = now + ExitRetry.Delay(retryPeriod, RefusedSales);
    }

    /// <summary>Whether an automatic exit that fired must wait at <paramref name="now"/>: a tick never tries a refused one before its time.</summary>
    public bool ExitWaits(DateTimeOffset now) => ExitRetryAt > now;

    /// <summary>The order id of a sale: <paramref name="name"/> (an exit's number, a close's id), then the refusals before it.</summary>
    public string SaleOrderId(string name) => RefusedSales == 0 ? $"{PositionId}:{name}" : $"{PositionId}:{name}:retry{RefusedSales}";
}
