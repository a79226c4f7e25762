using Orleans.Concurrency;
using AgentDesk.Contracts.Prices;

namespace AgentDesk.Contracts.Positions;

/// <summary>
/// The only place a position for one (agent, account, token) can exist: key
/// <c>pos:{agentId}:{account}:{symbol}</c>. Holds the live lifecycle (open position or pending trigger order)
/// and its exits, and remembers the commands it carried out. Closed lifecycles go to the trade history.
/// </summary>
[Alias("agentdesk.position")]
public interface IPositionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Opens (or places a trigger order) for a command that is not a batch's (an agent's intent), answering what the
    /// intent reports. Idempotent on <see cref="OpenPositionCommand.OpenId"/>; a second open while one is live is refused.
    /// </summary>
    [Alias("open")]
    Task<Common.Result<IntentReceipt>> OpenAsync(OpenPositionCommand command);

    /// <summary>
    /// A batch step's open (<see cref="OpenPositionCommand.BatchId"/> set): the same as <see cref="OpenAsync"/>, answering
    /// only what the step records. Idempotent on the open id until a later batch reports this one completed; after that,
    /// a command of this batch that still arrives (here, in the conclusion or in a close) is refused with batch_completed.
    /// </summary>
    [Alias("open-for-batch")]
    Task<Common.Result<OpenReceipt>> OpenForBatchAsync(OpenPositionCommand command);

    /// <summary>
    /// Settles whether the batch open <paramref name="openId"/> happened: what it opened if it did (an order still
    /// pending at a venue is finished first), otherwise <paramref name="refusal"/>, which every later open with that
    /// id then answers. Lets a caller that lost the open's answer record "nothing was traded" only when it is true.
    /// </summary>
    [Alias("conclude-open")]
    Task<Common.Result<OpenReceipt>> ConcludeOpenAsync(string openId, Domain.Common.Rejection refusal);

    /// <summary>
    /// Closes the open position or cancels the pending order. Idempotent on the close id; a close id that
    /// <see cref="ConcludeCloseAsync"/> settled as not done answers its refusal.
    /// </summary>
    [Alias("close")]
    Task<Common.Result<CloseReceipt>> CloseAsync(ClosePositionCommand command);

    /// <summary>
    /// Settles whether the close <paramref name="closeId"/> happened, as <see cref="ConcludeOpenAsync"/> does for an
    /// open: what it did if it did (a close still pending at a venue outside the cluster is asked about, and finished,
    /// first), otherwise <paramref name="refusal"/>, which every later close with that id then answers. Lets a batch that
    /// gives up on a close record "nothing was traded" only when it is true.
    /// </summary>
    [Alias("conclude-close")]
    Task<Common.Result<CloseReceipt>> ConcludeCloseAsync(string closeId, Domain.Common.Rejection refusal);

    /// <summary>Adds margin to the open position at the latest price; the entry becomes the size-weighted average.</summary>
    [Alias("add")]
    Task<Common.Result<IntentReceipt>> AddAsync(AddToPositionCommand command);

    /// <summary>Sells part of the open position; selling its whole size closes it.</summary>
    [Alias("reduce")]
    Task<Common.Result<IntentReceipt>> ReduceAsync(ReducePositionCommand command);

    /// <summary>Replaces the exit ladder without changing size; fired rules of the old ladder are forgotten.</summary>
    [Alias("update-exits")]
    Task<Common.Result<IntentReceipt>> UpdateExitsAsync(UpdateExitsCommand command);

    /// <summary>
    /// A price for this position's symbol. The exit watch never waits on the answer, but re-sends the newest tick until
    /// one is acknowledged; a tick older than the last evaluated one is ignored.
    /// </summary>
    [Alias("on-price")]
    Task OnPriceAsync(PriceTick tick);

    /// <summary>The account (or agent) confirms it applied a settlement; the position stops re-sending it.</summary>
    [Alias("confirm-settlement")]
    Task ConfirmSettlementAsync(string settlementId);

    [Alias("get")]
    Task<PositionSnapshot?> GetAsync();

    /// <summary>
    /// The position as a signed intent's checks need it, and whether the command <paramref name="commandId"/> was already
    /// carried out here (the agent then repeats it to get the stored answer instead of refusing what was done).
    /// </summary>
    [Alias("get-for-command")]
    Task<PositionForCommand> GetForCommandAsync(string commandId);
}
