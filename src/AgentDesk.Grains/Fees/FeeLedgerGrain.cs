using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Fees;

public sealed class FeeLedgerState
{
    public Dictionary<string, decimal> ByPartner { get; set; } = [];
    public HashSet<string> CreditIds { get; set; } = [];
}

[GrainType("fee-ledger")]
public sealed class FeeLedgerGrain(
    [PersistentState(StorageNames.FeeLedger, StorageNames.Provider)] IPersistentState<FeeLedgerState> state) : Grain, IFeeLedgerGrain
{
    public async Task CreditAsync(string creditId, IReadOnlyList<FeeChargeMessage> charges)
    {
        if (!state.State.CreditIds.Add(creditId)) return;
        foreach (var charge in charges)
            state.State.ByPartner[charge.Partner] = state.State.ByPartner.GetValueOrDefault(charge.Partner) + charge.AmountUsdc;
        await state.WriteStateAsync();
    }

    public Task<FeeLedgerView> GetAsync() => Task.FromResult(new FeeLedgerView(
        this.GetPrimaryKeyString()["fees:".Length..], state.State.ByPartner.Values.Sum(), state.State.ByPartner, state.State.CreditIds.Count));
}
