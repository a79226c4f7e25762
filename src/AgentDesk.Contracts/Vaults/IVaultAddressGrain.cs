namespace AgentDesk.Contracts.Vaults;

/// <summary>
/// Which vault an on-chain vault address belongs to (key <c>vault-address:{address}</c>, the address in lower case). The
/// first vault created on an address holds it for good, so no other vault, of another organisation or the same one, can
/// trade that contract's capital or count it twice.
/// </summary>
[Alias("agentdesk.vault-address")]
public interface IVaultAddressGrain : IGrainWithStringKey
{
    /// <summary>Gives the address to <paramref name="vaultId"/> unless another vault holds it; returns the vault that holds it.</summary>
    [Alias("claim")]
    Task<string> ClaimAsync(string vaultId);
}
