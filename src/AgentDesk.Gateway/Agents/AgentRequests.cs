using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using AgentDesk.Gateway.Http;

namespace AgentDesk.Gateway.Agents;

/// <summary>One partner fee in a registration: <c>FLAT</c> (USDC per trade) or <c>BPS</c> (of notional).</summary>
public sealed record AgentFeeRequest([property: Required] decimal? Fee, [property: Required] string? FeeAddress, [property: Required] string? Type) : IRequestBody;

/// <summary>
/// <c>POST /agent/register</c> (docs/api.md, "Agents"). <c>signerAddress</c> or <c>publicKey</c> names the key that
/// signs EIP-712 intents (give one; <c>publicKey</c> is turned into its address).
/// </summary>
public sealed record RegisterAgentRequest(
    [property: Required] string? AgentId,
    string? Name,
    string? Description,
    string? ImageUrl,
    string? AgentType,
    bool? IsPublic,
    Dictionary<string, AgentFeeRequest>? AgentFees,
    string? SignerAddress,
    string? PublicKey,
    string? OwnerId,
    string? Manager) : IRequestBody;

public sealed record FeeDataResponse(string Partner, decimal Fee, string FeeAddress, string FeeType);

public sealed record RegisterAgentResponse(
    string Status, string Message, Guid AgentId, string IsPublic, string Organization, string? OwnerId, string? Manager,
    string QuorumId, string AgentType, string? ImageUrl, IReadOnlyList<FeeDataResponse> FeeData, string? SignerAddress);

public sealed record SubscriberRequest([property: Required] string? SmartAccount) : IRequestBody;

public sealed record SubscribersResponse(Guid AgentId, int SubscriberCount, IReadOnlyList<string> Subscribers);

public sealed record VaultBindingRequest([property: Required] string? VaultId, [property: Required] string? AllocationUsdc) : IRequestBody;

public sealed record TrackRequest([property: Required] string? Track) : IRequestBody;

/// <summary>
/// A new signer. The admin may rotate without a signature; otherwise the current signer signs the EIP-712
/// <c>RotateSigner(uint256 agentId,address newSigner,uint256 deadline,uint256 nonce)</c> (docs/intents.md), which spends a nonce.
/// </summary>
public sealed record RotateSignerRequest(
    [property: Required] string? SignerAddress,
    [property: JsonConverter(typeof(IntegerOrStringConverter))] long? Deadline,
    [property: JsonConverter(typeof(IntegerOrStringConverter))] long? Nonce,
    string? Signature) : IRequestBody;
