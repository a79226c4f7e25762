using System.ComponentModel.DataAnnotations;
using AgentDesk.Grains.Options;
using AgentDesk.Venues.Evm;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentDesk.Silo.Hosting;

/// <summary>Section <c>AgentDesk:Deploy</c>: what <c>deploy-contracts</c> deploys, and with which key.</summary>
public sealed class DeployOptions
{
    public const string Section = "AgentDesk:Deploy";

    /// <summary>The deployer's (admin's) key file; defaults to AgentDesk:Evm:ExecutorKeyFile.</summary>
    public string? DeployerKeyFile { get; set; }

    /// <summary>The address granted the router's EXECUTOR role; defaults to the executor key's address.</summary>
    public string? Executor { get; set; }

    /// <summary>Test tokens to deploy with their feeds, as SYMBOL=PRICE pairs.</summary>
    public string Tokens { get; set; } = "NVDA=130,TSLA=250,SOL=150";

    /// <summary>Vault ids to deploy (comma-separated); each may trade every token.</summary>
    public string Vaults { get; set; } = "equities";

    [Range(0, 9_999)]
    public int SpreadBps { get; set; } = 5;

    [Range(1, int.MaxValue)]
    public int MaxPriceAgeSeconds { get; set; } = 3600;

    public decimal PoolUsdc { get; set; } = 10_000_000m;
    public decimal PoolTokensEach { get; set; } = 1_000_000m;
    public decimal VaultUsdc { get; set; } = 1_000_000m;

    /// <summary>Where deployments.json is written; defaults to AgentDesk:Evm:DeploymentsFile, then ./deployments.json.</summary>
    public string? Out { get; set; }
}

/// <summary>
/// <c>AgentDesk.Silo deploy-contracts</c>: deploys the venue's contracts to the chain at AgentDesk:Evm:RpcUrl, writes
/// deployments.json (what AgentDesk:Evm:DeploymentsFile reads) and prints it. Keys are read from files and never printed.
/// </summary>
public static class DeployContractsCommand
{
    public static async Task<int> RunAsync(IConfiguration configuration)
    {
        var evm = SiloCommand.Settings<EvmOptions>(configuration, EvmOptions.Section);
        var deploy = SiloCommand.Settings<DeployOptions>(configuration, DeployOptions.Section);
        var intents = SiloCommand.Settings<IntentDomainOptions>(configuration, IntentDomainOptions.Section);
        if (string.IsNullOrWhiteSpace(evm.RpcUrl)) return SiloCommand.Fail("AgentDesk:Evm:RpcUrl is required: the chain to deploy to.");
        var deployerKeyFile = SiloCommand.DeployerKeyFile(deploy, evm);
        if (deployerKeyFile is null) return SiloCommand.Fail("AgentDesk:Deploy:DeployerKeyFile (or AgentDesk:Evm:ExecutorKeyFile) is required: the deployer's key file.");
        if (ExecutorKey.Check(deployerKeyFile) is { } keyProblem) return SiloCommand.Fail(keyProblem);
        string executor;
        if (deploy.Executor is { } configured) executor = configured;
        else if (evm.ExecutorKeyFile is { } executorKeyFile && ExecutorKey.Check(executorKeyFile) is null)
            executor = new Nethereum.Signer.EthECKey(ExecutorKey.Read(executorKeyFile)).GetPublicAddress();
        else return SiloCommand.Fail("AgentDesk:Deploy:Executor (or a readable AgentDesk:Evm:ExecutorKeyFile) is required: who relays trades.");
        if (!AgentDesk.Domain.Intents.EthAddress.IsValid(executor)) return SiloCommand.Fail("AgentDesk:Deploy:Executor must be a 0x address.");

        IReadOnlyList<TokenToDeploy> tokens;
        try
        {
            tokens = EvmDeployer.ParseTokens(deploy.Tokens);
        }
        catch (FormatException e)
        {
            return SiloCommand.Fail($"AgentDesk:Deploy:Tokens: {e.Message}");
        }
        var vaults = deploy.Vaults.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        using var chain = new EvmChain(evm.RpcUrl, TimeSpan.FromSeconds(evm.RpcTimeoutSeconds));
        var chainId = await chain.ChainIdAsync();
        if (evm.ChainId != 0 && evm.ChainId != chainId) return SiloCommand.Fail($"The node serves chain {chainId}, not AgentDesk:Evm:ChainId {evm.ChainId}.");
        using var deployer = new ExecutorRelayer(chain, ExecutorKey.Read(deployerKeyFile), chainId, evm, NullLogger.Instance);
        var deployment = await EvmDeployer.DeployAsync(deployer, new DeploymentPlan(executor, tokens, vaults, deploy.SpreadBps, deploy.MaxPriceAgeSeconds,
            deploy.PoolUsdc, deploy.PoolTokensEach, deploy.VaultUsdc, intents.Name, intents.Version), chainId);
        var output = Path.GetFullPath(deploy.Out ?? evm.DeploymentsFile ?? "deployments.json");
        deployment.Write(output);
        Console.WriteLine(deployment.ToJson());
        Console.WriteLine($"Wrote {output}");
        return 0;
    }
}
