using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Positions;

/// <summary>
/// One position's close by hand (<c>POST /api/v1/agent-positions/{agentId}/{positionId}/close</c>): key
/// <c>close:{agentId}:{positionId}</c>. A closed position leaves every list the gateway finds positions by, so without
/// this grain a caller retrying a close whose answer it lost was told the position does not exist. It stores which
/// position grain the id names before the close is sent, and the close's answer once it is back, so a retry gets the
/// first answer.
/// </summary>
[Alias("agentdesk.manual-close")]
public interface IManualCloseGrain : IGrainWithStringKey
{
    /// <summary>
    /// The answer of the close by hand already carried out: the stored one, or the position's remembered receipt if the
    /// answer was lost before it was stored. Never sells. Refused with position_not_found when no such close was carried
    /// out (none was asked for, or every one asked for was refused, broke off before the sale, or found the position
    /// closed some other way).
    /// </summary>
    [Alias("answer")]
    Task<Result<ManualCloseAnswer>> AnswerAsync();

    /// <summary>
    /// Closes the live position <paramref name="request"/> names (idempotent: a close already carried out answers its
    /// answer). Refused with position_not_found when the position was closed some other way first, and with the
    /// position's refusal when it refuses the sale (which a later close may try again).
    /// </summary>
    [Alias("close")]
    Task<Result<ManualCloseAnswer>> CloseAsync(ManualCloseRequest request);
}

/// <summary>
/// A close by hand as the gateway asks for it: the position grain, the reason, the price the sale may slip from, and the
/// entry and native-token prices the answer is worked out with (stored, so a retry's answer is the same).
/// </summary>
[GenerateSerializer, Immutable, Alias("agentdesk.manual-close-request")]
public sealed record ManualCloseRequest(
    [property: Id(0)] string PositionKey,
    [property: Id(1)] string Reason,
    [property: Id(2)] decimal ReferencePrice,
    [property: Id(3)] decimal EntryPrice,
    [property: Id(4)] decimal NativePriceUsd);

/// <summary>What a close by hand did (the position's receipt, a sale) and the prices its answer is worked out with.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.manual-close-answer")]
public sealed record ManualCloseAnswer(
    [property: Id(0)] CloseReceipt Receipt,
    [property: Id(1)] decimal EntryPrice,
    [property: Id(2)] decimal NativePriceUsd);
