using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Vaults;

/// <summary>A vault (key <c>vault:{id}</c>): its token allowlist and the agents allocated to it.</summary>
[Alias("agentdesk.vault")]
public interface IVaultGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<Result<VaultView>> CreateAsync(string address, string name, string organization);

    [Alias("set-token")]
    Task<Result<VaultView>> SetTokenAsync(string symbol, string tokenAddress, int decimals);

    [Alias("allocate")]
    Task<Result<VaultView>> AllocateAsync(Guid agentId, decimal allocationUsdc);

    [Alias("get")]
    Task<VaultView?> GetAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.vault-token")]
public sealed record VaultToken(
    [property: Id(0)] string Symbol,
    [property: Id(1)] string Address,
    [property: Id(2)] int Decimals);

[GenerateSerializer, Immutable, Alias("agentdesk.vault-view")]
public sealed record VaultView(
    [property: Id(0)] string VaultId,
    [property: Id(1)] string Address,
    [property: Id(2)] string Name,
    [property: Id(3)] string Organization,
    [property: Id(4)] IReadOnlyList<VaultToken> Tokens,
    [property: Id(5)] IReadOnlyDictionary<Guid, decimal> Allocations);
