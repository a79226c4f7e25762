using AgentDesk.Contracts.Agents;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Agents;

public sealed class SubscriberPageState
{
    public List<string> Accounts { get; set; } = [];
}

/// <summary>Up to 256 subscriber addresses of one agent, so no single state blob grows with the subscriber count.</summary>
[GrainType("subscriber-page")]
public sealed class SubscriberPageGrain(
    [PersistentState(StorageNames.SubscriberPage, StorageNames.Provider)] IPersistentState<SubscriberPageState> state) : Grain, ISubscriberPageGrain
{
    public async Task AddAsync(string account)
    {
        if (state.State.Accounts.Contains(account)) return;
        state.State.Accounts.Add(account);
        await state.WriteStateAsync();
    }

    public async Task RemoveAsync(string account)
    {
        if (state.State.Accounts.Remove(account)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<string>> GetAccountsAsync() => Task.FromResult<IReadOnlyList<string>>(state.State.Accounts.ToArray());
}
