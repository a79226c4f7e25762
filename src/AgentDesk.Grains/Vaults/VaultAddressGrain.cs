using AgentDesk.Contracts.Vaults;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Vaults;

public sealed class VaultAddressState
{
    /// <summary>The vault the address belongs to; null while unclaimed.</summary>
    public string? VaultId { get; set; }
}

/// <summary>The one vault an on-chain vault address belongs to (<see cref="IVaultAddressGrain"/>).</summary>
[GrainType("vault-address")]
public sealed class VaultAddressGrain(
    [PersistentState(StorageNames.VaultAddress, StorageNames.Provider)] IPersistentState<VaultAddressState> state) : Grain, IVaultAddressGrain
{
    public async Task<string> ClaimAsync(string vaultId)
    {
        // A claim is never released: a vault cannot be deleted, and an address handed on would let a second vault trade
        // positions the first one opened.
        if (state.State.VaultId is { } holder) return holder;
        state.State.VaultId = vaultId;
        await state.WriteStateAsync();
        return vaultId;
    }
}
