using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Venues.Evm;
using Microsoft.Extensions.Configuration;

namespace AgentDesk.Silo.Hosting;

/// <summary>Section <c>AgentDesk:VaultClaim</c>: which organisation may create which vault, on which contract.</summary>
public sealed class VaultClaimOptions
{
    public const string Section = "AgentDesk:VaultClaim";

    /// <summary>The organisation that creates the vault (the one its operator key belongs to).</summary>
    public string? Organization { get; set; }

    /// <summary>The vault id it creates the vault under.</summary>
    public string? VaultId { get; set; }

    /// <summary>The vault contract; defaults to the deployments file's vault of the same id.</summary>
    public string? Address { get; set; }

    /// <summary>The vault admin's key file; defaults to AgentDesk:Deploy:DeployerKeyFile, then AgentDesk:Evm:ExecutorKeyFile.</summary>
    public string? KeyFile { get; set; }
}

/// <summary>
/// <c>AgentDesk.Silo sign-vault-claim</c>: signs, with a vault contract's admin key, the claim that lets an organisation
/// create a vault on it (docs/venues.md, "Vaults on the chain") and prints the signature for <c>adminSignature</c>. The chain
/// id and the contract come from the deployments file (AgentDesk:Evm:DeploymentsFile), so nothing is asked of the chain.
/// </summary>
public static class SignVaultClaimCommand
{
    public static int Run(IConfiguration configuration)
    {
        var claim = SiloCommand.Settings<VaultClaimOptions>(configuration, VaultClaimOptions.Section);
        var evm = SiloCommand.Settings<EvmOptions>(configuration, EvmOptions.Section);
        var deploy = SiloCommand.Settings<DeployOptions>(configuration, DeployOptions.Section);
        if (!Organizations.IsValid(claim.Organization))
            return SiloCommand.Fail("AgentDesk:VaultClaim:Organization is required: the organisation that creates the vault (1 to 64 letters, digits, '.', '-' or '_').");
        if (!VaultRules.IsValidVaultId(claim.VaultId))
            return SiloCommand.Fail("AgentDesk:VaultClaim:VaultId is required: the vault id it is created under (1 to 64 letters, digits, '-' or '_').");
        if (evm.DeploymentsFile is null || !File.Exists(evm.DeploymentsFile))
            return SiloCommand.Fail("AgentDesk:Evm:DeploymentsFile is required and must exist: it names the chain and the vault contracts.");
        EvmDeployment deployment;
        try
        {
            deployment = EvmDeployment.Read(evm.DeploymentsFile);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnauthorizedAccessException)
        {
            return SiloCommand.Fail($"{evm.DeploymentsFile} cannot be read as a deployments file: {e.Message}");
        }
        var address = claim.Address ?? deployment.Vaults.GetValueOrDefault(claim.VaultId);
        if (address is null) return SiloCommand.Fail($"The deployments file has no vault '{claim.VaultId}': give AgentDesk:VaultClaim:Address.");
        if (!EthAddress.IsValid(address)) return SiloCommand.Fail($"The vault contract's address must be 0x followed by 40 hex digits; got '{address}'.");
        var keyFile = claim.KeyFile ?? SiloCommand.DeployerKeyFile(deploy, evm);
        if (keyFile is null) return SiloCommand.Fail("AgentDesk:VaultClaim:KeyFile (or AgentDesk:Deploy:DeployerKeyFile) is required: the vault admin's key file.");
        if (ExecutorKey.Check(keyFile) is { } keyProblem) return SiloCommand.Fail(keyProblem);
        Console.WriteLine(new VaultClaim(claim.Organization, claim.VaultId, address, deployment.ChainId).Sign(ExecutorKey.Read(keyFile)));
        return 0;
    }
}
