using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Agents;

/// <summary>What a registration (docs/api.md, "Agents") must satisfy before an agent exists.</summary>
public static class AgentRegistrationRules
{
    public const int MaxTextLength = 2_000;

    public static Rejection? Validate(string? name, string? description, string? imageUrl, IReadOnlyList<AgentFee> fees, string? signerAddress, FeeCaps caps,
        string? ownerId = null, string? manager = null)
    {
        if (ownerId?.Length > ClientIds.MaxLength || manager?.Length > ClientIds.MaxLength)
            return new Rejection(Errors.InvalidName, $"ownerId and manager are at most {ClientIds.MaxLength} characters.");
        if (name?.Length > 200)
            return new Rejection(Errors.InvalidName, "name is at most 200 characters.");
        if (description?.Length > MaxTextLength)
            return new Rejection(Errors.InvalidDescription, $"description is at most {MaxTextLength} characters.");
        if (!string.IsNullOrEmpty(imageUrl) && (imageUrl.Length > MaxTextLength || !Uri.TryCreate(imageUrl, UriKind.Absolute, out _)))
            return new Rejection(Errors.InvalidImageUrl, $"imageUrl must be an absolute URL; got '{imageUrl}'.");
        if (signerAddress is not null && !EthAddress.IsValid(signerAddress))
            return new Rejection(Errors.InvalidAddress, $"signerAddress must be 0x followed by 40 hex digits; got '{signerAddress}'.");
        return FeeSchedule.Validate(fees, caps);
    }
}
