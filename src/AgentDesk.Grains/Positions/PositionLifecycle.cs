using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Positions;

namespace AgentDesk.Grains.Positions;

/// <summary>One lifecycle of a position grain: from open (or order placement) to close (or cancellation).</summary>
public sealed class PositionLifecycle
{
    public string PositionId { get; set; } = "";
    public string OpenId { get; set; } = "";
    public Guid? BatchId { get; set; }
    public PositionStatus Status { get; set; }
    public TradeSide Side { get; set; }
    public decimal Leverage { get; set; }
    public int TokenDecimals { get; set; }
    public string? TokenAddress { get; set; }

    /// <summary>Collateral committed when the lifecycle began (held for a pending order until it fills).</summary>
    public decimal CollateralUsdc { get; set; }

    public TriggerOrder? Order { get; set; }
    public PositionState? Position { get; set; }
    public decimal OriginalSize { get; set; }
    public ExitPlan Plan { get; set; } = ExitPlan.None;
    public decimal RealizedPnlUsdc { get; set; }
    public TransactionRef? OpenTransaction { get; set; }
    public List<ExitEvent> Exits { get; set; } = [];
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public string? CloseReason { get; set; }
    public decimal? ExitPrice { get; set; }

    public SettlementTarget SettleTo { get; set; }

    public bool IsLive => Status is PositionStatus.Pending or PositionStatus.Open;
}
