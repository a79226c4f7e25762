using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

// Typed messages for the contracts around the router: ERC-20 tokens (TestToken), Chainlink-style feeds (PriceFeed),
// the allowlist (TokenRegistry), the pool and the vault, and their constructors (deployed from Evm/Artifacts).
namespace AgentDesk.Venues.Evm.Abi;

[Function("balanceOf", "uint256")]
public class BalanceOfFunction : FunctionMessage
{
    [Parameter("address", "account", 1)] public string Account { get; set; } = "";
}

[Function("decimals", "uint8")]
public class DecimalsFunction : FunctionMessage;

[Function("approve", "bool")]
public class ApproveFunction : FunctionMessage
{
    [Parameter("address", "spender", 1)] public string Spender { get; set; } = "";
    [Parameter("uint256", "value", 2)] public BigInteger Value { get; set; }
}

[Function("mint")]
public class MintFunction : FunctionMessage
{
    [Parameter("address", "to", 1)] public string To { get; set; } = "";
    [Parameter("uint256", "amount", 2)] public BigInteger Amount { get; set; }
}

[Function("latestRoundData", typeof(RoundDataOutput))]
public class LatestRoundDataFunction : FunctionMessage;

[FunctionOutput]
public class RoundDataOutput : IFunctionOutputDTO
{
    [Parameter("uint80", "roundId", 1)] public BigInteger RoundId { get; set; }
    [Parameter("int256", "answer", 2)] public BigInteger Answer { get; set; }
    [Parameter("uint256", "startedAt", 3)] public BigInteger StartedAt { get; set; }
    [Parameter("uint256", "updatedAt", 4)] public BigInteger UpdatedAt { get; set; }
    [Parameter("uint80", "answeredInRound", 5)] public BigInteger AnsweredInRound { get; set; }
}

[Function("setPrice")]
public class SetPriceFunction : FunctionMessage
{
    [Parameter("int256", "answer", 1)] public BigInteger Answer { get; set; }
}

[Function("setMarket")]
public class SetMarketFunction : FunctionMessage
{
    [Parameter("address", "token", 1)] public string Token { get; set; } = "";
    [Parameter("address", "feed", 2)] public string Feed { get; set; } = "";
}

[Function("allow")]
public class AllowFunction : FunctionMessage
{
    [Parameter("address", "vault", 1)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 2)] public string Token { get; set; } = "";
}

[Function("feedOf", "address")]
public class FeedOfFunction : FunctionMessage
{
    [Parameter("address", "token", 1)] public string Token { get; set; } = "";
}

/// <summary><c>setRouter</c> of the pool and of a vault (both set once).</summary>
[Function("setRouter")]
public class SetRouterFunction : FunctionMessage
{
    [Parameter("address", "router_", 1)] public string Router { get; set; } = "";
}

// ---- constructors: the bytecode comes from the artifact ----

public class TestTokenDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("string", "name_", 1)] public string Name { get; set; } = "";
    [Parameter("string", "symbol_", 2)] public string Symbol { get; set; } = "";
    [Parameter("uint8", "decimals_", 3)] public byte Decimals { get; set; }
}

public class PriceFeedDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("string", "description_", 1)] public string Description { get; set; } = "";
    [Parameter("uint8", "decimals_", 2)] public byte Decimals { get; set; }
    [Parameter("int256", "initialAnswer", 3)] public BigInteger InitialAnswer { get; set; }
}

public class TokenRegistryDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("address", "admin", 1)] public string Admin { get; set; } = "";
}

public class OraclePoolDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("address", "usdc_", 1)] public string Usdc { get; set; } = "";
    [Parameter("address", "registry_", 2)] public string Registry { get; set; } = "";
    [Parameter("uint16", "spreadBps_", 3)] public ushort SpreadBps { get; set; }
    [Parameter("uint32", "maxPriceAgeSeconds_", 4)] public uint MaxPriceAgeSeconds { get; set; }
    [Parameter("address", "admin", 5)] public string Admin { get; set; } = "";
}

public class VaultDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("address", "usdc_", 1)] public string Usdc { get; set; } = "";
    [Parameter("address", "admin", 2)] public string Admin { get; set; } = "";
}

public class TradeRouterDeployment(string bytecode) : ContractDeploymentMessage(bytecode)
{
    [Parameter("string", "name", 1)] public string Name { get; set; } = "";
    [Parameter("string", "version", 2)] public string Version { get; set; } = "";
    [Parameter("address", "usdc_", 3)] public string Usdc { get; set; } = "";
    [Parameter("address", "registry_", 4)] public string Registry { get; set; } = "";
    [Parameter("address", "pool_", 5)] public string Pool { get; set; } = "";
    [Parameter("address", "admin", 6)] public string Admin { get; set; } = "";
}
