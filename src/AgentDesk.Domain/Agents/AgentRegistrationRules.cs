using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Agents;

/// <summary>What a registration (seed 003) must satisfy before an agent exists.</summary>
public static class AgentRegistrationRules
{
    public const int MaxTextLength = 2_000;

    public static Rejection? Validate(string? name, string? description, string? imageUrl, string? agentType, IReadOnlyList<AgentFee> fees, string? signerAddress)
    {
        if (AgentTypes.Parse(agentType) is null)
            return new Rejection("invalid_agent_type", $"agentType must be PERPETUAL or SWAP; got '{agentType}'.");
        if (name?.Length > 200)
            return new Rejection("invalid_name", "name is at most 200 characters.");
        if (description?.Length > MaxTextLength)
            return new Rejection("invalid_description", $"description is at most {MaxTextLength} characters.");
        if (!string.IsNullOrEmpty(imageUrl) && !Uri.TryCreate(imageUrl, UriKind.Absolute, out _))
            return new Rejection("invalid_image_url", $"imageUrl must be an absolute URL; got '{imageUrl}'.");
        if (signerAddress is not null && !EthAddress.IsValid(signerAddress))
            return new Rejection("invalid_address", $"signerAddress must be 0x followed by 40 hex digits; got '{signerAddress}'.");
        return FeeSchedule.Validate(fees);
    }
}
