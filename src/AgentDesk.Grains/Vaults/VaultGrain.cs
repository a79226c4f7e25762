using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Grains.Vaults;

public sealed class VaultState
{
    public bool Exists { get; set; }
    public string Address { get; set; } = "";
    public string Name { get; set; } = "";
    public string Organization { get; set; } = "";
    public decimal CapitalUsdc { get; set; }
    public Dictionary<string, VaultToken> Tokens { get; set; } = [];
    public Dictionary<Guid, decimal> Allocations { get; set; } = [];

    /// <summary>Symbols held by agents' open vault positions (symbol → agents), which freezes their address and decimals.</summary>
    public Dictionary<string, HashSet<Guid>> Holdings { get; set; } = [];

    /// <summary>The address is this vault's in the vault-address directory (false for a vault stored before the directory existed).</summary>
    public bool AddressClaimed { get; set; }

    /// <summary>Bumped on every change, so a reader can tell two views apart.</summary>
    public long Version { get; set; }
}

/// <summary>A vault: its allowlist, capital and allocations. The rules are the domain's <see cref="VaultRules"/>.</summary>
[GrainType("vault")]
public sealed class VaultGrain(
    [PersistentState(StorageNames.Vault, StorageNames.Provider)] IPersistentState<VaultState> state,
    Venues.ExecutionVenues venues,
    ILogger<VaultGrain> logger) : Grain, IVaultGrain
{
    private VaultState S => state.State;
    private string VaultId => GrainKeys.After(this.GetPrimaryKeyString(), "vault:");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A vault stored before addresses were claimed claims its own as it wakes, so no vault created later can take it.
        // A claim that cannot be made now is made at a later activation: the vault it protects still serves meanwhile.
        if (!S.Exists || S.AddressClaimed) return;
        bool claimed;
        try
        {
            claimed = await ClaimAddressAsync(S.Address);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Vault {VaultId} could not claim its address {Address} as it woke; its next activation tries again.", VaultId, S.Address);
            return;
        }
        if (claimed) await state.WriteStateAsync(cancellationToken);
        else logger.LogWarning("Vault {VaultId} shares its address {Address} with another vault, which claimed it first; both were created before one vault per address was enforced, and only one should be used.", VaultId, S.Address);
    }

    public async Task<Result<VaultView>> CreateAsync(string address, string name, string organization, decimal capitalUsdc, string? adminSignature)
    {
        if (!EthAddress.IsValid(address))
            return Result<VaultView>.Fail(Errors.InvalidAddress, $"address must be 0x followed by 40 hex digits; got '{address}'.");
        if (S.Exists)
        {
            // Creating the same vault again is a harmless retry; anything else is someone else's vault id, or a request
            // that would change this one (which has endpoints of its own).
            return S.Organization == organization && EthAddress.AreEqual(S.Address, address) && S.Name == name && S.CapitalUsdc == capitalUsdc
                ? Result<VaultView>.Ok(View())
                : Result<VaultView>.Fail(Errors.VaultExists, $"Vault {VaultId} already exists with another address, name or capital.");
        }
        if (VaultRules.CheckCapital(capitalUsdc, S.Allocations) is { } badCapital) return badCapital;
        // Vault trades go to the spot venue: on a chain, the vault must be a contract there.
        var venue = venues.Get(venues.Spot);
        if (await venue.CheckAddressAsync(address, tokenDecimals: null) is { } unusable) return unusable;
        // A vault address is public: only the contract's admin can say which organisation's agents may trade its capital.
        if (await venue.CheckVaultClaimAsync(address, organization, VaultId, adminSignature) is { } unproven) return unproven;
        // One vault per contract: a second one, in any organisation, would let its agents trade the first one's capital.
        if (!await ClaimAddressAsync(address))
            return Result<VaultView>.Fail(Errors.VaultAddressTaken, $"Another vault already has the address {EthAddress.Normalize(address)}.");
        S.AddressClaimed = true;
        S.Exists = true;
        S.Address = EthAddress.Normalize(address);
        S.Name = name;
        S.Organization = organization;
        S.CapitalUsdc = capitalUsdc;
        return await SavedAsync();
    }

    public async Task<Result<VaultView>> SetTokenAsync(string symbol, string tokenAddress, int decimals)
    {
        if (!S.Exists) return NotFound();
        var held = S.Holdings.TryGetValue(symbol.ToUpperInvariant(), out var agents) && agents.Count > 0;
        if (VaultRules.CheckToken(S.Tokens.Values, symbol, tokenAddress, decimals, held) is { } refused) return refused;
        var token = new VaultToken(symbol.ToUpperInvariant(), EthAddress.Normalize(tokenAddress), decimals);
        if (S.Tokens.TryGetValue(token.Symbol, out var existing) && existing == token) return Result<VaultView>.Ok(View());
        if (await venues.Get(venues.Spot).CheckAddressAsync(token.Address, token.Decimals) is { } unusable) return unusable;
        S.Tokens[token.Symbol] = token;
        return await SavedAsync();
    }

    public async Task<Result<VaultView>> SetCapitalAsync(decimal capitalUsdc)
    {
        if (!S.Exists) return NotFound();
        if (VaultRules.CheckCapital(capitalUsdc, S.Allocations) is { } refused) return refused;
        S.CapitalUsdc = capitalUsdc;
        return await SavedAsync();
    }

    public async Task<Result<VaultView>> AllocateAsync(Guid agentId, decimal allocationUsdc)
    {
        if (!S.Exists) return NotFound();
        if (VaultRules.CheckAllocation(S.CapitalUsdc, S.Allocations, agentId, allocationUsdc) is { } refused) return refused;
        S.Allocations[agentId] = allocationUsdc;
        return await SavedAsync();
    }

    public async Task ReleaseAsync(Guid agentId)
    {
        if (S.Allocations.Remove(agentId)) await SavedAsync();
    }

    public async Task TrackHoldingAsync(Guid agentId, string symbol, bool open)
    {
        var key = symbol.ToUpperInvariant();
        var agents = S.Holdings.TryGetValue(key, out var set) ? set : S.Holdings[key] = [];
        if (!(open ? agents.Add(agentId) : agents.Remove(agentId))) return;
        if (agents.Count == 0) S.Holdings.Remove(key);
        await state.WriteStateAsync();
    }

    public Task<VaultView?> GetAsync() => Task.FromResult(S.Exists ? View() : null);

    private async Task<Result<VaultView>> SavedAsync()
    {
        S.Version++;
        await state.WriteStateAsync();
        return Result<VaultView>.Ok(View());
    }

    private async Task<bool> ClaimAddressAsync(string address) =>
        await GrainFactory.GetGrain<IVaultAddressGrain>(GrainKeys.VaultAddress(EthAddress.Normalize(address))).ClaimAsync(VaultId) == VaultId;

    private Result<VaultView> NotFound() => Result<VaultView>.Fail(Errors.VaultNotFound, $"Vault {VaultId} does not exist.");

    private VaultView View() => new(VaultId, S.Address, S.Name, S.Organization, S.Tokens.Values.OrderBy(t => t.Symbol, StringComparer.Ordinal).ToArray(),
        new Dictionary<Guid, decimal>(S.Allocations), S.CapitalUsdc, S.Version);
}
