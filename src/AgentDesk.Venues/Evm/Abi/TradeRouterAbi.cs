using System.Numerics;
using Nethereum.ABI.FunctionEncoding.Attributes;
using Nethereum.Contracts;

// Typed messages for the TradeRouter (Evm/Solidity/contracts/TradeRouter.sol). Field order is the ABI: it must follow the
// Solidity declarations exactly; the chain tests call every one of them against the compiled contract.
namespace AgentDesk.Venues.Evm.Abi;

public class OpenPositionStruct
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 2)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 3)] public string Token { get; set; } = "";
    [Parameter("uint256", "usdcAmount", 4)] public BigInteger UsdcAmount { get; set; }
    [Parameter("uint256", "minTokenOut", 5)] public BigInteger MinTokenOut { get; set; }
    [Parameter("uint16", "maxSlippageBps", 6)] public ushort MaxSlippageBps { get; set; }
    [Parameter("bytes32", "exitsHash", 7)] public byte[] ExitsHash { get; set; } = new byte[32];
    [Parameter("uint256", "deadline", 8)] public BigInteger Deadline { get; set; }
    [Parameter("uint256", "nonce", 9)] public BigInteger Nonce { get; set; }
}

public class AddToPositionStruct
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 2)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 3)] public string Token { get; set; } = "";
    [Parameter("uint256", "usdcAmount", 4)] public BigInteger UsdcAmount { get; set; }
    [Parameter("uint256", "minTokenOut", 5)] public BigInteger MinTokenOut { get; set; }
    [Parameter("uint16", "maxSlippageBps", 6)] public ushort MaxSlippageBps { get; set; }
    [Parameter("uint256", "deadline", 7)] public BigInteger Deadline { get; set; }
    [Parameter("uint256", "nonce", 8)] public BigInteger Nonce { get; set; }
}

public class ReducePositionStruct
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 2)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 3)] public string Token { get; set; } = "";
    [Parameter("uint256", "tokenAmount", 4)] public BigInteger TokenAmount { get; set; }
    [Parameter("uint256", "minUsdcOut", 5)] public BigInteger MinUsdcOut { get; set; }
    [Parameter("uint16", "maxSlippageBps", 6)] public ushort MaxSlippageBps { get; set; }
    [Parameter("uint256", "deadline", 7)] public BigInteger Deadline { get; set; }
    [Parameter("uint256", "nonce", 8)] public BigInteger Nonce { get; set; }
}

public class UpdateExitLadderStruct
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 2)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 3)] public string Token { get; set; } = "";
    [Parameter("bytes32", "exitsHash", 4)] public byte[] ExitsHash { get; set; } = new byte[32];
    [Parameter("uint256", "deadline", 5)] public BigInteger Deadline { get; set; }
    [Parameter("uint256", "nonce", 6)] public BigInteger Nonce { get; set; }
}

public class ExitRuleStruct
{
    [Parameter("uint8", "triggerType", 1)] public byte TriggerType { get; set; }
    [Parameter("int32", "triggerBps", 2)] public int TriggerBps { get; set; }
    [Parameter("uint16", "exitBps", 3)] public ushort ExitBps { get; set; }
}

public class BatchBuyStruct
{
    [Parameter("bytes32", "orderId", 1)] public byte[] OrderId { get; set; } = new byte[32];
    [Parameter("address", "account", 2)] public string Account { get; set; } = "";
    [Parameter("uint256", "usdcAmount", 3)] public BigInteger UsdcAmount { get; set; }
    [Parameter("uint256", "minTokenOut", 4)] public BigInteger MinTokenOut { get; set; }
    [Parameter("uint16", "maxSlippageBps", 5)] public ushort MaxSlippageBps { get; set; }
}

public class BatchSellStruct
{
    [Parameter("bytes32", "orderId", 1)] public byte[] OrderId { get; set; } = new byte[32];
    [Parameter("address", "account", 2)] public string Account { get; set; } = "";
    [Parameter("uint256", "tokenAmount", 3)] public BigInteger TokenAmount { get; set; }
    [Parameter("uint256", "minUsdcOut", 4)] public BigInteger MinUsdcOut { get; set; }
    [Parameter("uint16", "maxSlippageBps", 5)] public ushort MaxSlippageBps { get; set; }
}

// ---- signed intents (executor only) ----

[Function("openPosition")]
public class OpenPositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public OpenPositionStruct Intent { get; set; } = new();
    [Parameter("bytes", "signature", 2)] public byte[] Signature { get; set; } = [];
}

[Function("addToPosition")]
public class AddToPositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public AddToPositionStruct Intent { get; set; } = new();
    [Parameter("bytes", "signature", 2)] public byte[] Signature { get; set; } = [];
}

[Function("reducePosition")]
public class ReducePositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public ReducePositionStruct Intent { get; set; } = new();
    [Parameter("bytes", "signature", 2)] public byte[] Signature { get; set; } = [];
}

[Function("updateExitLadder")]
public class UpdateExitLadderFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public UpdateExitLadderStruct Intent { get; set; } = new();
    [Parameter("bytes", "signature", 2)] public byte[] Signature { get; set; } = [];
}

[Function("executeExit")]
public class ExecuteExitFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 2)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 3)] public string Token { get; set; } = "";
    [Parameter("tuple[]", "rules", 4)] public List<ExitRuleStruct> Rules { get; set; } = [];
    [Parameter("uint256", "ruleIndex", 5)] public BigInteger RuleIndex { get; set; }
    [Parameter("bytes32", "orderId", 6)] public byte[] OrderId { get; set; } = new byte[32];
}

[Function("batchOpen")]
public class BatchOpenFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "token", 2)] public string Token { get; set; } = "";
    [Parameter("tuple[]", "orders_", 3)] public List<BatchBuyStruct> Orders { get; set; } = [];
}

[Function("batchClose")]
public class BatchCloseFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "token", 2)] public string Token { get; set; } = "";
    [Parameter("tuple[]", "orders_", 3)] public List<BatchSellStruct> Orders { get; set; } = [];
}

[Function("setAgentSigner")]
public class SetAgentSignerFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("address", "signer", 2)] public string Signer { get; set; } = "";
}

[Function("skipNonces")]
public class SkipNoncesFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("uint256", "nonce", 2)] public BigInteger NextNonce { get; set; }
}

[Function("multicall", "bytes[]")]
public class MulticallFunction : FunctionMessage
{
    [Parameter("bytes[]", "data", 1)] public List<byte[]> Data { get; set; } = [];
}

[Function("setConsent")]
public class SetConsentFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
    [Parameter("bool", "allowed", 2)] public bool Allowed { get; set; }
}

[Function("grantRole")]
public class GrantRoleFunction : FunctionMessage
{
    [Parameter("bytes32", "role", 1)] public byte[] Role { get; set; } = new byte[32];
    [Parameter("address", "account", 2)] public string Account { get; set; } = "";
}

// ---- views ----

/// <summary>OpenZeppelin AccessControl's role check (the router and the vaults are AccessControl contracts).</summary>
[Function("hasRole", "bool")]
public class HasRoleFunction : FunctionMessage
{
    [Parameter("bytes32", "role", 1)] public byte[] Role { get; set; } = new byte[32];
    [Parameter("address", "account", 2)] public string Account { get; set; } = "";
}

[Function("orders", typeof(OrderRecordOutput))]
public class OrdersFunction : FunctionMessage
{
    [Parameter("bytes32", "orderId", 1)] public byte[] OrderId { get; set; } = new byte[32];
}

[FunctionOutput]
public class OrderRecordOutput : IFunctionOutputDTO
{
    [Parameter("uint8", "status", 1)] public byte Status { get; set; }
    [Parameter("uint256", "usdcAmount", 2)] public BigInteger UsdcAmount { get; set; }
    [Parameter("uint256", "tokenAmount", 3)] public BigInteger TokenAmount { get; set; }
}

[Function("nonces", "uint256")]
public class NoncesFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
}

[Function("signerOf", "address")]
public class SignerOfFunction : FunctionMessage
{
    [Parameter("uint256", "agentId", 1)] public BigInteger AgentId { get; set; }
}

[Function("EXECUTOR_ROLE", "bytes32")]
public class ExecutorRoleFunction : FunctionMessage;

[Function("domainSeparator", "bytes32")]
public class DomainSeparatorFunction : FunctionMessage;

[Function("hashExits", "bytes32")]
public class HashExitsFunction : FunctionMessage
{
    [Parameter("tuple[]", "rules", 1)] public List<ExitRuleStruct> Rules { get; set; } = [];
}

[Function("digestOpenPosition", "bytes32")]
public class DigestOpenPositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public OpenPositionStruct Intent { get; set; } = new();
}

[Function("digestAddToPosition", "bytes32")]
public class DigestAddToPositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public AddToPositionStruct Intent { get; set; } = new();
}

[Function("digestReducePosition", "bytes32")]
public class DigestReducePositionFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public ReducePositionStruct Intent { get; set; } = new();
}

[Function("digestUpdateExitLadder", "bytes32")]
public class DigestUpdateExitLadderFunction : FunctionMessage
{
    [Parameter("tuple", "intent", 1)] public UpdateExitLadderStruct Intent { get; set; } = new();
}

// ---- events ----

[Event("OrderFilled")]
public class OrderFilledEvent : IEventDTO
{
    [Parameter("bytes32", "orderId", 1, true)] public byte[] OrderId { get; set; } = new byte[32];
    [Parameter("uint256", "agentId", 2, true)] public BigInteger AgentId { get; set; }
    [Parameter("address", "account", 3, true)] public string Account { get; set; } = "";
    [Parameter("address", "token", 4, false)] public string Token { get; set; } = "";
    [Parameter("bool", "buy", 5, false)] public bool Buy { get; set; }
    [Parameter("uint256", "usdcAmount", 6, false)] public BigInteger UsdcAmount { get; set; }
    [Parameter("uint256", "tokenAmount", 7, false)] public BigInteger TokenAmount { get; set; }
    [Parameter("uint256", "priceE8", 8, false)] public BigInteger PriceE8 { get; set; }
}

[Event("OrderFailed")]
public class OrderFailedEvent : IEventDTO
{
    [Parameter("bytes32", "orderId", 1, true)] public byte[] OrderId { get; set; } = new byte[32];
    [Parameter("uint256", "agentId", 2, true)] public BigInteger AgentId { get; set; }
    [Parameter("address", "account", 3, true)] public string Account { get; set; } = "";
    [Parameter("bytes4", "reason", 4, false)] public byte[] Reason { get; set; } = new byte[4];
}

[Event("ExitLadderUpdated")]
public class ExitLadderUpdatedEvent : IEventDTO
{
    [Parameter("bytes32", "orderId", 1, true)] public byte[] OrderId { get; set; } = new byte[32];
    [Parameter("uint256", "agentId", 2, true)] public BigInteger AgentId { get; set; }
    [Parameter("address", "vault", 3, true)] public string Vault { get; set; } = "";
    [Parameter("address", "token", 4, false)] public string Token { get; set; } = "";
    [Parameter("bytes32", "exitsHash", 5, false)] public byte[] ExitsHash { get; set; } = new byte[32];
}

// Errors are decoded by name from the compiled ABI (ChainErrors), not from DTOs.
