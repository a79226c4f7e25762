using System.Numerics;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;
using AgentDesk.Venues.Evm;
using AgentDesk.Venues.Evm.Abi;
using Microsoft.Extensions.Logging.Abstractions;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;

namespace AgentDesk.Chain.Tests;

/// <summary>
/// A private anvil with the whole venue deployed by <see cref="EvmDeployer"/> (what <c>deploy-contracts</c> runs): USDC, NVDA,
/// TSLA and SOL with their feeds, the registry, the pool, the router and one vault, "equities", allowed NVDA and SOL only.
/// The executor key is in a file, as the product reads it. Helpers act as the chain's other users: the admin moves feeds,
/// subscribers fund, approve and consent from their own keys.
/// </summary>
public sealed class ChainFixture : IAsyncLifetime
{
    public const string VaultId = "equities";
    public static readonly TokenToDeploy[] Tokens = [new("NVDA", 130m), new("TSLA", 250m), new("SOL", 150m)];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "agentdesk-chain-" + Guid.NewGuid().ToString("N")[..8]);

    public Anvil Anvil { get; private set; } = null!;
    public EvmChain Chain { get; private set; } = null!;
    public ExecutorRelayer Admin { get; private set; } = null!;

    /// <summary>The deployer's key: the admin of every contract it deployed, the vault among them.</summary>
    public string AdminKey { get; private set; } = "";
    public EvmDeployment Deployment { get; private set; } = null!;
    public string ExecutorKeyFile => Path.Combine(_folder, "executor.key");
    public string AdminKeyFile => Path.Combine(_folder, "deployer.key");
    public string DeploymentsFile => Path.Combine(_folder, "deployments.json");
    public string ExecutorAddress { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        Anvil = await Anvil.StartAsync();
        Chain = new EvmChain(Anvil.RpcUrl);
        var (adminKey, _) = await FundedKeyAsync();
        AdminKey = adminKey;
        await File.WriteAllTextAsync(AdminKeyFile, adminKey);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(AdminKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (executorKey, executor) = await FundedKeyAsync();
        ExecutorAddress = executor;
        await File.WriteAllTextAsync(ExecutorKeyFile, executorKey);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(ExecutorKeyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Admin = Sender(adminKey);
        Deployment = await EvmDeployer.DeployAsync(Admin, new DeploymentPlan(executor, Tokens, [VaultId], VaultSymbols: ["NVDA", "SOL"]), Anvil.ChainId);
        Deployment.Write(DeploymentsFile);
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        Chain?.Dispose();
        if (Anvil is not null) await Anvil.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // a process still writing there; the temp folder is cleaned by the machine
        }
    }

    public string Vault => Deployment.Vaults[VaultId];

    /// <summary>The vault contract's admin letting <paramref name="organization"/> create vault <paramref name="vaultId"/> on it.</summary>
    public string VaultClaim(string organization, string vaultId) =>
        new Domain.Vaults.VaultClaim(organization, vaultId, Vault, Anvil.ChainId).Sign(AdminKey);
    public string Token(string symbol) => Deployment.Tokens[symbol].Address;

    /// <summary>Settings that put a gateway's silo on this chain: the EVM venue, chain prices, fast receipts.</summary>
    public IEnumerable<string> EvmSettings(int chainPollMs = 25) =>
    [
        "--AgentDesk:Venue:Kind", "Evm",
        "--AgentDesk:Evm:DeploymentsFile", DeploymentsFile,
        "--AgentDesk:Evm:ExecutorKeyFile", ExecutorKeyFile,
        "--AgentDesk:Evm:ExplorerTxUrl", "https://explorer.test/tx/{hash}",
        "--AgentDesk:Prices:Source", "Chain",
        "--AgentDesk:Prices:ChainPollMs", chainPollMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
    ];

    /// <summary>A new key with 1,000 ETH for gas (anvil_setBalance: no transaction).</summary>
    public async Task<(string Key, string Address)> FundedKeyAsync()
    {
        var key = EthECKey.GenerateKey();
        var address = key.GetPublicAddress().ToLowerInvariant();
        await Chain.RpcAsync("anvil_setBalance", address, new HexBigInteger(BigInteger.Pow(10, 21)).HexValue);
        return (key.GetPrivateKey(), address);
    }

    public ExecutorRelayer Sender(string key) => new(Chain, key, Anvil.ChainId, new EvmOptions(), NullLogger.Instance);

    /// <summary>Calls a contract from <paramref name="sender"/>, with the gas the node estimates, and requires success.</summary>
    public async Task<TransactionReceipt> CallAsync<TFunction>(ExecutorRelayer sender, string contract, TFunction function) where TFunction : FunctionMessage, new()
    {
        var data = function.GetCallData();
        var gas = await Chain.EstimateGasAsync(sender.Address, contract, data);
        var receipt = await sender.SendAndWaitAsync(contract, data, gas * 6 / 5 + 20_000);
        Assert.True(receipt.Status?.Value == 1, $"{typeof(TFunction).Name} to {contract} reverted ({receipt.TransactionHash})");
        return receipt;
    }

    /// <summary>A subscriber's smart account: ETH for gas, <paramref name="usdc"/> USDC, approvals of USDC and the token to the router, consent to the agent.</summary>
    public async Task<string> SubscriberAsync(Guid agentId, decimal usdc, string symbol, bool consent = true)
    {
        var (key, address) = await FundedKeyAsync();
        using var subscriber = Sender(key);
        if (usdc > 0) await CallAsync(Admin, Deployment.Usdc, new MintFunction { To = address, Amount = EvmDeployer.Units(usdc, 6) });
        await CallAsync(subscriber, Deployment.Usdc, new ApproveFunction { Spender = Deployment.Router, Value = UnlimitedAllowance });
        await CallAsync(subscriber, Token(symbol), new ApproveFunction { Spender = Deployment.Router, Value = UnlimitedAllowance });
        if (consent) await CallAsync(subscriber, Deployment.Router, new SetConsentFunction { AgentId = Domain.Intents.AgentIds.ToUint256(agentId), Allowed = true });
        _subscriberKeys[address] = key;
        return address;
    }

    /// <summary>The allowance a subscriber gives the router: more than any trade needs.</summary>
    public static readonly BigInteger UnlimitedAllowance = BigInteger.Pow(2, 255);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _subscriberKeys = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>A subscriber's approval of <paramref name="symbol"/> to the router, as its owner would set it (0 revokes it).</summary>
    public async Task ApproveTokenAsync(string account, string symbol, BigInteger amount)
    {
        using var subscriber = Sender(_subscriberKeys[account]);
        await CallAsync(subscriber, Token(symbol), new ApproveFunction { Spender = Deployment.Router, Value = amount });
    }

    /// <summary>How many orders of <paramref name="account"/> the router recorded as failed (its OrderFailed events).</summary>
    public async Task<int> FailedOrdersAsync(string account)
    {
        var signature = "0x" + Convert.ToHexStringLower(Nethereum.Util.Sha3Keccack.Current.CalculateHash(System.Text.Encoding.UTF8.GetBytes("OrderFailed(bytes32,uint256,address,bytes4)")));
        var logs = await Chain.Web3.Eth.Filters.GetLogs.SendRequestAsync(new Nethereum.RPC.Eth.DTOs.NewFilterInput
        {
            Address = [Deployment.Router],
            Topics = [signature, null, null, "0x" + account[2..].ToLowerInvariant().PadLeft(64, '0')],
            FromBlock = Nethereum.RPC.Eth.DTOs.BlockParameter.CreateEarliest(),
            ToBlock = Nethereum.RPC.Eth.DTOs.BlockParameter.CreateLatest(),
        });
        return logs.Length;
    }

    /// <summary>Moves a token's feed (the admin owns the test feeds): a new round stamped with the block's time.</summary>
    public Task SetPriceAsync(string symbol, decimal priceUsd) =>
        CallAsync(Admin, Deployment.Tokens[symbol].Feed, new SetPriceFunction { Answer = EvmDeployer.Units(priceUsd, 8) });

    public async Task<decimal> BalanceAsync(string token, string account, int decimals) =>
        Money.FromBaseUnits(await Chain.QueryValueAsync<BalanceOfFunction, BigInteger>(token, new BalanceOfFunction { Account = account }), decimals);

    public Task<decimal> TokenBalanceAsync(string symbol, string account) => BalanceAsync(Token(symbol), account, Deployment.Tokens[symbol].Decimals);

    public Task<decimal> UsdcBalanceAsync(string account) => BalanceAsync(Deployment.Usdc, account, 6);

    /// <summary>Asserts that <paramref name="hash"/> is a mined transaction that succeeded.</summary>
    public async Task AssertSucceededAsync(string? hash)
    {
        Assert.NotNull(hash);
        var receipt = await Chain.ReceiptAsync(hash);
        Assert.True(receipt is not null, $"{hash} has no receipt");
        Assert.True(receipt.Status?.Value == 1, $"{hash} reverted");
    }

    public Task<BigInteger> NonceOfAgentAsync(Guid agentId) =>
        Chain.QueryValueAsync<NoncesFunction, BigInteger>(Deployment.Router, new NoncesFunction { AgentId = Domain.Intents.AgentIds.ToUint256(agentId) });
}

[CollectionDefinition(Name)]
public sealed class ChainCollection : ICollectionFixture<ChainFixture>
{
    public const string Name = "chain";
}
