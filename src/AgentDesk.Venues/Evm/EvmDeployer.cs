using System.Globalization;
using System.Numerics;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Venues.Evm.Abi;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.RPC.Eth.DTOs;

namespace AgentDesk.Venues.Evm;

/// <summary>A token to deploy with its Chainlink-style feed: a tokenized equity (or any ERC-20) and its starting price.</summary>
public sealed record TokenToDeploy(string Symbol, decimal PriceUsd, int Decimals = 18);

/// <summary>
/// What <see cref="EvmDeployer"/> deploys. Test tokens and feeds stand in for the chain's USDC, tokenized equities and
/// Chainlink feeds; the amounts fund the pool's inventory and each vault's USDC. Vaults may trade every token, or only
/// <see cref="VaultSymbols"/> when given (the others are listed for batches but outside the vaults' allowlist).
/// </summary>
public sealed record DeploymentPlan(
    string ExecutorAddress,
    IReadOnlyList<TokenToDeploy> Tokens,
    IReadOnlyList<string> VaultIds,
    int SpreadBps = 5,
    int MaxPriceAgeSeconds = 3600,
    decimal PoolUsdc = 10_000_000m,
    decimal PoolTokensEach = 1_000_000m,
    decimal VaultUsdc = 1_000_000m,
    string DomainName = Eip712Domain.DefaultName,
    string DomainVersion = Eip712Domain.DefaultVersion,
    IReadOnlyList<string>? VaultSymbols = null);

/// <summary>
/// Deploys the whole venue from the compiled artifacts, in the order Evm/Solidity/README.md gives: USDC, tokens and feeds,
/// the registry and its markets, the pool, the router (wired both ways, executor role granted), vaults (router set, tokens
/// allowed, USDC funded), the pool's inventory. The sender is the admin of every contract. Used by the silo's
/// <c>deploy-contracts</c> command, <c>deploy/local/chain.sh</c>, the tests and the benchmarks.
/// </summary>
public static class EvmDeployer
{
    public static async Task<EvmDeployment> DeployAsync(ExecutorRelayer admin, DeploymentPlan plan, long chainId, CancellationToken cancellationToken = default)
    {
        var chain = admin.Chain;
        var startBlock = (long)await chain.BlockNumberAsync(cancellationToken);
        var deployer = new Deployer(admin, cancellationToken);

        var usdc = await deployer.DeployAsync(new TestTokenDeployment(ContractArtifacts.Bytecode("TestToken")) { Name = "USD Coin", Symbol = "USDC", Decimals = 6 });
        var tokens = new Dictionary<string, DeployedToken>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in plan.Tokens)
        {
            var symbol = token.Symbol.ToUpperInvariant();
            var address = await deployer.DeployAsync(new TestTokenDeployment(ContractArtifacts.Bytecode("TestToken"))
            {
                Name = $"{symbol} tokenized", Symbol = symbol, Decimals = (byte)token.Decimals,
            });
            var feed = await deployer.DeployAsync(new PriceFeedDeployment(ContractArtifacts.Bytecode("PriceFeed"))
            {
                Description = $"{symbol} / USD", Decimals = 8, InitialAnswer = Units(token.PriceUsd, 8),
            });
            tokens[symbol] = new DeployedToken(address, token.Decimals, feed);
        }

        var adminAddress = admin.Address;
        var registry = await deployer.DeployAsync(new TokenRegistryDeployment(ContractArtifacts.Bytecode("TokenRegistry")) { Admin = adminAddress });
        foreach (var token in tokens.Values)
            await deployer.CallAsync(registry, new SetMarketFunction { Token = token.Address, Feed = token.Feed });

        var pool = await deployer.DeployAsync(new OraclePoolDeployment(ContractArtifacts.Bytecode("OraclePool"))
        {
            Usdc = usdc, Registry = registry, SpreadBps = (ushort)plan.SpreadBps, MaxPriceAgeSeconds = (uint)plan.MaxPriceAgeSeconds, Admin = adminAddress,
        });
        var router = await deployer.DeployAsync(new TradeRouterDeployment(ContractArtifacts.Bytecode("TradeRouter"))
        {
            Name = plan.DomainName, Version = plan.DomainVersion, Usdc = usdc, Registry = registry, Pool = pool, Admin = adminAddress,
        });
        await deployer.CallAsync(pool, new SetRouterFunction { Router = router });
        var executorRole = await chain.QueryValueAsync<ExecutorRoleFunction, byte[]>(router, new ExecutorRoleFunction(), cancellationToken);
        await deployer.CallAsync(router, new GrantRoleFunction { Role = executorRole, Account = plan.ExecutorAddress });

        var vaults = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var vaultId in plan.VaultIds)
        {
            var vault = await deployer.DeployAsync(new VaultDeployment(ContractArtifacts.Bytecode("Vault")) { Usdc = usdc, Admin = adminAddress });
            await deployer.CallAsync(vault, new SetRouterFunction { Router = router });
            foreach (var (symbol, token) in tokens)
                if (plan.VaultSymbols is null || plan.VaultSymbols.Contains(symbol, StringComparer.OrdinalIgnoreCase))
                    await deployer.CallAsync(registry, new AllowFunction { Vault = vault, Token = token.Address });
            await deployer.CallAsync(usdc, new MintFunction { To = vault, Amount = Units(plan.VaultUsdc, 6) });
            vaults[vaultId] = vault;
        }

        await deployer.CallAsync(usdc, new MintFunction { To = pool, Amount = Units(plan.PoolUsdc, 6) });
        foreach (var token in tokens.Values)
            await deployer.CallAsync(token.Address, new MintFunction { To = pool, Amount = Units(plan.PoolTokensEach, token.Decimals) });

        return new EvmDeployment
        {
            ChainId = chainId,
            RpcUrl = chain.RpcUrl,
            DeploymentBlock = startBlock,
            Router = router,
            Usdc = usdc,
            Registry = registry,
            Pool = pool,
            Admin = adminAddress,
            Executor = plan.ExecutorAddress.ToLowerInvariant(),
            Vaults = vaults,
            Tokens = tokens,
        };
    }

    /// <summary>Parses "NVDA=130,TSLA=250" (symbol=price in USD).</summary>
    public static IReadOnlyList<TokenToDeploy> ParseTokens(string text) => text
        .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
        .Select(parts => parts.Length == 2 && Symbols.IsValid(parts[0]) && decimal.TryParse(parts[1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) && price > 0
            ? new TokenToDeploy(parts[0].ToUpperInvariant(), price)
            : throw new FormatException($"'{string.Join('=', parts)}' is not SYMBOL=PRICE (for example NVDA=130)."))
        .ToList();

    /// <summary>A human amount in base units (exact: refuses more precision than the unit has).</summary>
    public static BigInteger Units(decimal amount, int decimals) => Money.ToBaseUnits(amount, decimals, "amount").Unwrap();

    /// <summary>Sends one deployment or call at a time and requires a successful receipt for each.</summary>
    private sealed class Deployer(ExecutorRelayer admin, CancellationToken cancellationToken)
    {
        public async Task<string> DeployAsync<TDeployment>(TDeployment deployment) where TDeployment : ContractDeploymentMessage
        {
            var data = new DeployContractTransactionBuilder().GetData(deployment.ByteCode, deployment).HexToByteArray();
            var receipt = await SendAsync(null, data);
            return receipt.ContractAddress.ToLowerInvariant();
        }

        public async Task CallAsync<TFunction>(string contract, TFunction function) where TFunction : FunctionMessage, new() =>
            await SendAsync(contract, function.GetCallData());

        private async Task<TransactionReceipt> SendAsync(string? to, byte[] data)
        {
            var gas = await admin.Chain.EstimateGasAsync(admin.Address, to!, data, cancellationToken);
            var receipt = await admin.SendAndWaitAsync(to, data, gas * 6 / 5 + 20_000, cancellationToken);
            if (receipt.Status?.Value != 1)
                throw new InvalidOperationException($"Deployment transaction {receipt.TransactionHash} reverted.");
            return receipt;
        }
    }
}
