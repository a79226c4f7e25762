using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Positions;

public sealed class ManualCloseState
{
    /// <summary>The close as last asked for: stored before the position is told, so a retry finds the position grain.</summary>
    public ManualCloseRequest? Request { get; set; }

    /// <summary>What the close did, once the position answered it with a sale.</summary>
    public ManualCloseAnswer? Answer { get; set; }
}

/// <summary>
/// One position's close by hand. The position grain carries the close out and remembers it per close id; this grain
/// remembers which position grain the id names, which nothing else does once the position is closed, and the answer.
/// </summary>
// A retry comes within seconds or minutes, and most activations are the gateway asking whether there is an answer before
// a first close: none needs to stay in memory for long.
[CollectionAgeLimit(Minutes = 2)]
[GrainType("manual-close")]
public sealed class ManualCloseGrain(
    [PersistentState(StorageNames.ManualClose, StorageNames.Provider)] IPersistentState<ManualCloseState> state) : Grain, IManualCloseGrain
{
    private string? _positionId;

    private ManualCloseState S => state.State;
    private string PositionId => _positionId ??= GrainKeys.ParseManualClose(this.GetPrimaryKeyString()).PositionId.ToString("D");

    /// <summary>The position's id for this close: one per position id, so a retry is never a second sale.</summary>
    private string CloseId => $"manual:{PositionId}";

    public async Task<Result<ManualCloseAnswer>> AnswerAsync()
    {
        if (S.Answer is { } answered) return Result<ManualCloseAnswer>.Ok(answered);
        if (S.Request is not { } asked) return NotFound();
        // Only a close the position carried out is answered from here (from its memory): a position still open under this
        // id, which the gateway could not find (its account stopped following the agent, say), is not sold on a retry.
        if (!(await Position(asked).GetForCommandAsync(CloseId)).Handled) return NotFound();
        return await CloseThroughPositionAsync(asked);
    }

    public async Task<Result<ManualCloseAnswer>> CloseAsync(ManualCloseRequest request)
    {
        if (S.Answer is { } answered) return Result<ManualCloseAnswer>.Ok(answered);
        // Nothing was sold yet, so a retry's reason and prices replace an earlier attempt's.
        if (S.Request != request)
        {
            S.Request = request;
            await state.WriteStateAsync();
        }
        return await CloseThroughPositionAsync(request);
    }

    private async Task<Result<ManualCloseAnswer>> CloseThroughPositionAsync(ManualCloseRequest asked)
    {
        var closed = await Position(asked).CloseAsync(
            new ClosePositionCommand(CloseId, asked.Reason, OnlyIfOpenedByBatch: null, OnlyPositionId: PositionId, asked.ReferencePrice));
        if (!closed.IsSuccess) return Result<ManualCloseAnswer>.Fail(closed.Problem!);
        // Skipped: the position was closed some other way (an exit, a batch-close) before this close reached it. Without a
        // sale (an order cancelled before its trigger, which the gateway never sends here) there is no answer to keep either.
        if (closed.Value is not { Skipped: false, Transaction: not null, HistoricalSwapId: not null } sale) return NotFound();
        S.Answer = new ManualCloseAnswer(sale, asked.EntryPrice, asked.NativePriceUsd);
        await state.WriteStateAsync();
        return Result<ManualCloseAnswer>.Ok(S.Answer);
    }

    private IPositionGrain Position(ManualCloseRequest asked) => GrainFactory.GetGrain<IPositionGrain>(asked.PositionKey);

    private static Result<ManualCloseAnswer> NotFound() => Result<ManualCloseAnswer>.Fail(Errors.PositionNotFound, "Position not found");
}
