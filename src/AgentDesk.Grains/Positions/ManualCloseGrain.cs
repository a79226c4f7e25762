using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Common;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Positions;

public sealed class ManualCloseState
{
    /// <summary>The close as first asked for: stored before the position is told, so a retry finds the position grain.</summary>
    public ManualCloseRequest? Request { get; set; }

    /// <summary>What the close did, once the position answered it.</summary>
    public ManualClose? Answer { get; set; }
}

/// <summary>
/// One position's close by hand. The position grain carries the close out and remembers it per close id; this grain
/// remembers which position grain the id names, which nothing else does once the position is closed, and the answer.
/// </summary>
[GrainType("manual-close")]
public sealed class ManualCloseGrain(
    [PersistentState(StorageNames.ManualClose, StorageNames.Provider)] IPersistentState<ManualCloseState> state) : Grain, IManualCloseGrain
{
    private ManualCloseState S => state.State;

    public async Task<Result<ManualClose>> CloseAsync(ManualCloseRequest? request)
    {
        if (S.Answer is { } answered) return Result<ManualClose>.Ok(answered);
        if (S.Request is null)
        {
            if (request is null) return NotFound();
            S.Request = request;
            await state.WriteStateAsync();
        }
        // A close asked again while the position is still open (the first was refused, or broke off before it reached the
        // position) sells at the price of now; one asked after the position closed is answered from the position's memory.
        var asked = request ?? S.Request;
        var positionId = GrainKeys.ParseManualClose(this.GetPrimaryKeyString()).PositionId.ToString("D");
        var closed = await GrainFactory.GetGrain<IPositionGrain>(S.Request.PositionKey).CloseAsync(
            new ClosePositionCommand($"manual:{positionId}", S.Request.Reason, OnlyIfOpenedByBatch: null, OnlyPositionId: positionId, asked.ReferencePrice));
        if (!closed.IsSuccess) return Result<ManualClose>.Fail(closed.Problem!);
        // Skipped: the position was closed some other way (an exit, a batch-close) before this close reached it.
        if (closed.Value!.Skipped) return NotFound();
        S.Answer = new ManualClose(closed.Value, asked.EntryPrice, asked.NativePriceUsd);
        await state.WriteStateAsync();
        return Result<ManualClose>.Ok(S.Answer);
    }

    private static Result<ManualClose> NotFound() => Result<ManualClose>.Fail(Errors.PositionNotFound, "Position not found");
}
