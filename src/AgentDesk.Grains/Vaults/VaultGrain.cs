using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Intents;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Vaults;

public sealed class VaultState
{
    public bool Exists { get; set; }
    public string Address { get; set; } = "";
    public string Name { get; set; } = "";
    public string Organization { get; set; } = "";
    public Dictionary<string, VaultToken> Tokens { get; set; } = [];
    public Dictionary<Guid, decimal> Allocations { get; set; } = [];
}

[GrainType("vault")]
public sealed class VaultGrain(
    [PersistentState(StorageNames.Vault, StorageNames.Provider)] IPersistentState<VaultState> state) : Grain, IVaultGrain
{
    public const int MaxTokenDecimals = 18;

    private VaultState S => state.State;
    private string VaultId => this.GetPrimaryKeyString()["vault:".Length..];

    public async Task<Result<VaultView>> CreateAsync(string address, string name, string organization)
    {
        if (!EthAddress.IsValid(address))
            return Result<VaultView>.Fail("invalid_address", $"address must be 0x followed by 40 hex digits; got '{address}'.");
        if (S.Exists)
        {
            return EthAddress.AreEqual(S.Address, address)
                ? Result<VaultView>.Ok(View())
                : Result<VaultView>.Fail("vault_exists", $"Vault {VaultId} already exists with another address.");
        }
        S.Exists = true;
        S.Address = EthAddress.Normalize(address);
        S.Name = name;
        S.Organization = organization;
        await state.WriteStateAsync();
        return Result<VaultView>.Ok(View());
    }

    public async Task<Result<VaultView>> SetTokenAsync(string symbol, string tokenAddress, int decimals)
    {
        if (!S.Exists) return NotFound();
        if (!Domain.Common.Symbols.IsValid(symbol))
            return Result<VaultView>.Fail("invalid_symbol", "A symbol is 1 to 16 letters or digits.");
        if (!EthAddress.IsValid(tokenAddress))
            return Result<VaultView>.Fail("invalid_address", $"address must be 0x followed by 40 hex digits; got '{tokenAddress}'.");
        if (decimals is < 0 or > MaxTokenDecimals)
            return Result<VaultView>.Fail("invalid_decimals", $"decimals must be between 0 and {MaxTokenDecimals}.");
        S.Tokens[symbol.ToUpperInvariant()] = new VaultToken(symbol.ToUpperInvariant(), EthAddress.Normalize(tokenAddress), decimals);
        await state.WriteStateAsync();
        return Result<VaultView>.Ok(View());
    }

    public async Task<Result<VaultView>> AllocateAsync(Guid agentId, decimal allocationUsdc)
    {
        if (!S.Exists) return NotFound();
        S.Allocations[agentId] = allocationUsdc;
        await state.WriteStateAsync();
        return Result<VaultView>.Ok(View());
    }

    public Task<VaultView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    private Result<VaultView> NotFound() => Result<VaultView>.Fail("vault_not_found", $"Vault {VaultId} does not exist.");

    private VaultView View() => new(VaultId, S.Address, S.Name, S.Organization, S.Tokens.Values.OrderBy(t => t.Symbol).ToArray(), S.Allocations);
}
