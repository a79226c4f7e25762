using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Idempotency;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Fees;

public sealed class FeeLedgerState
{
    public Dictionary<string, decimal> ByPartner { get; set; } = [];

    /// <summary>Credits already applied (one per batch), so a retried or resumed batch credits once.</summary>
    public HandledCommands<bool> Credits { get; set; } = new();

    /// <summary>
    /// Refunds of single orders already taken, so a re-sent one takes once. Kept apart from the batches' credits and refunds
    /// (<see cref="Credits"/>): thousands of orders refused at one tick must not push a batch's id out of memory while that
    /// batch may still retry it.
    /// </summary>
    public HandledCommands<bool> Refunds { get; set; } = new();

    public int CreditCount { get; set; }
}

/// <summary>Fees credited to one fee address within one organisation.</summary>
[GrainType("fee-ledger")]
public sealed class FeeLedgerGrain(
    [PersistentState(StorageNames.FeeLedger, StorageNames.Provider)] IPersistentState<FeeLedgerState> state) : Grain, IFeeLedgerGrain
{
    // A batch credits once when it completes; a retry comes long before thousands of later batches.
    private const int RememberedCredits = 4096;

    public Task CreditAsync(string creditId, IReadOnlyList<FeeCharge> charges) => ApplyAsync(creditId, charges, credit: true, state.State.Credits);

    // A refund is asked again only when the asker could not record the answer: an account whose write after it failed (or
    // that died first, or whose call to another address's ledger failed), or a batch-close resumed before it stored its
    // completion.
    public Task RefundAsync(string refundId, IReadOnlyList<FeeCharge> charges, bool byBatch) =>
        ApplyAsync(refundId, charges, credit: false, byBatch ? state.State.Credits : state.State.Refunds);

    /// <summary>Adds (a credit) or takes back (a refund) each partner's charge, once per id in <paramref name="memory"/>.</summary>
    private async Task ApplyAsync(string id, IReadOnlyList<FeeCharge> charges, bool credit, HandledCommands<bool> memory)
    {
        if (memory.Contains(id)) return;
        foreach (var charge in charges)
            state.State.ByPartner[charge.Partner] = state.State.ByPartner.GetValueOrDefault(charge.Partner) + (credit ? charge.AmountUsdc : -charge.AmountUsdc);
        memory.Remember(id, true, RememberedCredits);
        if (credit) state.State.CreditCount++;
        await state.WriteStateAsync();
    }

    public Task<FeeLedgerView> GetAsync() => Task.FromResult(new FeeLedgerView(
        GrainKeys.After(this.GetPrimaryKeyString(), "fees:").Split(':')[^1], state.State.ByPartner.Values.Sum(),
        new Dictionary<string, decimal>(state.State.ByPartner), state.State.CreditCount));
}
