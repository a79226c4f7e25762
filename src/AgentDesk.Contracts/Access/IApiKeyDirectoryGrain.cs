using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Access;

/// <summary>
/// Every issued API key (one grain, key <see cref="GrainKeys.ApiKeyDirectory"/>). Keys are stored as their
/// SHA-256 only. One directory means an invented key is answered from memory: no grain is activated per
/// attempt, and a revocation is seen by every gateway's next request.
/// </summary>
[Alias("agentdesk.api-key-directory")]
public interface IApiKeyDirectoryGrain : IGrainWithStringKey
{
    [Alias("issue")]
    Task<Result<ApiKeyView>> IssueAsync(ApiKeyIssue issue);

    /// <summary>The key with this hash if it is usable at <paramref name="now"/> (not revoked, not expired); otherwise null.</summary>
    [Orleans.Concurrency.ReadOnly, Alias("authenticate")]
    Task<ApiKeyView?> AuthenticateAsync(string keyHash, DateTimeOffset now);

    [Orleans.Concurrency.ReadOnly, Alias("list")]
    Task<IReadOnlyList<ApiKeyView>> ListAsync();

    /// <summary>Revokes a key at once; revoking a revoked key changes nothing.</summary>
    [Alias("revoke")]
    Task<Result<ApiKeyView>> RevokeAsync(string keyId, DateTimeOffset now);
}

[GenerateSerializer, Immutable, Alias("agentdesk.api-key-issue")]
public sealed record ApiKeyIssue(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string KeyHash,
    [property: Id(2)] string Organization,
    [property: Id(3)] string Role,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? ExpiresAt);

/// <summary>What is known of a key: never its secret.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.api-key-view")]
public sealed record ApiKeyView(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Organization,
    [property: Id(2)] string Role,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? ExpiresAt,
    [property: Id(5)] DateTimeOffset? RevokedAt);

/// <summary>Roles a credential can carry (docs/security.md).</summary>
public static class ApiKeyRoles
{
    /// <summary>Everything, in every organisation.</summary>
    public const string Admin = "admin";

    /// <summary>Agents, accounts, vaults, batches and positions of its own organisation.</summary>
    public const string Operator = "operator";

    /// <summary>Publishes prices.</summary>
    public const string Oracle = "oracle";

    /// <summary>Risk settings: tracks and allocations, in its own organisation.</summary>
    public const string Risk = "risk";

    public static readonly IReadOnlyList<string> Issuable = [Operator, Oracle, Risk];
}
