using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;

namespace AgentDesk.Contracts.Intents;

/// <summary>What an executed intent did: the consumed nonce, and the position it produced or changed as its answer reports it.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-execution")]
public sealed record IntentExecution(
    [property: Id(0)] long Nonce,
    // Ids 1 to 3 carried the whole position and the sale before the receipts: under a new id, an older process reads no
    // position at all rather than a receipt's fields as a snapshot's (docs/operations.md, upgrading).
    [property: Id(4)] IntentReceipt Position);

/// <summary>Everything a client needs to build and sign the next intent.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.intent-quote")]
public sealed record IntentQuote(
    [property: Id(0)] long Nonce,
    [property: Id(1)] string VaultId,
    [property: Id(2)] string VaultAddress,
    [property: Id(3)] Domain.Intents.VaultToken Token,
    [property: Id(4)] string Track,
    [property: Id(5)] Domain.Tracks.TradeHeadroom Headroom,
    [property: Id(6)] Domain.Exits.ExitBounds ExitBounds,
    [property: Id(7)] Domain.Intents.TypedDataTemplate TypedData);
