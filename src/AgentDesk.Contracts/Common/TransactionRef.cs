namespace AgentDesk.Contracts.Common;

/// <summary>A venue's transaction: a chain hash with its explorer URL, or a paper fill marked <see cref="Simulated"/>.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.tx")]
public sealed record TransactionRef(
    [property: Id(0)] string Id,
    [property: Id(1)] string Hash,
    [property: Id(2)] string? ExplorerUrl,
    [property: Id(3)] long ChainId,
    [property: Id(4)] bool Simulated,
    [property: Id(5)] DateTimeOffset At);
