using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Contracts.Vaults;

/// <summary>
/// A vault (key <c>vault:{id}</c>, ids are global because the public allowlist endpoint names vaults by id):
/// its owner organisation, capital, token allowlist and the agents allocated to it.
/// </summary>
[Alias("agentdesk.vault")]
public interface IVaultGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the vault on the contract at <paramref name="address"/>. On a chain, <paramref name="adminSignature"/> is the
    /// contract's admin signing the organisation's claim to it (docs/domain.md, "Vaults"); on the paper venue it is not needed.
    /// </summary>
    [Alias("create")]
    Task<Result<VaultView>> CreateAsync(string address, string name, string organization, decimal capitalUsdc, string? adminSignature);

    /// <summary>Lists a token. One address has one symbol per vault; a token held by an open position keeps its address and decimals.</summary>
    [Alias("set-token")]
    Task<Result<VaultView>> SetTokenAsync(string symbol, string tokenAddress, int decimals);

    [Alias("set-capital")]
    Task<Result<VaultView>> SetCapitalAsync(decimal capitalUsdc);

    /// <summary>Sets an agent's allocation; all allocations together stay within the capital.</summary>
    [Alias("allocate")]
    Task<Result<VaultView>> AllocateAsync(Guid agentId, decimal allocationUsdc);

    /// <summary>Removes an agent's allocation: the agent moved to another vault.</summary>
    [Alias("release")]
    Task ReleaseAsync(Guid agentId);

    /// <summary>
    /// An agent's vault position on <paramref name="symbol"/> is opening or closed (a token held by one keeps its address).
    /// </summary>
    [Alias("track-holding")]
    Task TrackHoldingAsync(Guid agentId, string symbol, bool open);

    [Alias("get")]
    Task<VaultView?> GetAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.vault-view")]
public sealed record VaultView(
    [property: Id(0)] string VaultId,
    [property: Id(1)] string Address,
    [property: Id(2)] string Name,
    [property: Id(3)] string Organization,
    [property: Id(4)] IReadOnlyList<VaultToken> Tokens,
    [property: Id(5)] IReadOnlyDictionary<Guid, decimal> Allocations,
    [property: Id(6)] decimal CapitalUsdc,
    [property: Id(7)] long Version)
{
    public IntentVault ForIntents() => new(VaultId, Address, Tokens);
}
