namespace AgentDesk.Contracts.Common;

/// <summary>A trade direction on the wire: LONG or SHORT.</summary>
public enum TradeSide
{
    Long = 1,
    Short = -1,
}

/// <summary>An exit-ladder rule as it travels between grains (see the domain's ExitRule).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.exit-rule")]
public sealed record ExitRuleMessage(
    [property: Id(0)] string TriggerType,
    [property: Id(1)] int TriggerBps,
    [property: Id(2)] int ExitBps);

/// <summary>A fee charged on one trade.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.fee-charge")]
public sealed record FeeChargeMessage(
    [property: Id(0)] string Partner,
    [property: Id(1)] string FeeAddress,
    [property: Id(2)] decimal AmountUsdc);

/// <summary>A transaction reference from a venue; paper fills are marked <see cref="Simulated"/>.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.tx")]
public sealed record TransactionRef(
    [property: Id(0)] string Id,
    [property: Id(1)] string Hash,
    [property: Id(2)] string? ExplorerUrl,
    [property: Id(3)] int ChainId,
    [property: Id(4)] bool Simulated,
    [property: Id(5)] DateTimeOffset At);
