namespace AgentDesk.Contracts.Access;

/// <summary>
/// One issued API key, keyed <c>apikey:{sha256 of the key, hex}</c>: the key itself is never stored, only
/// its hash, with the organisation and role it grants.
/// </summary>
[Alias("agentdesk.api-key")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    [Alias("issue")]
    Task IssueAsync(string organization, string role, DateTimeOffset issuedAt);

    [Alias("get")]
    Task<ApiKeyView?> GetAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.api-key-view")]
public sealed record ApiKeyView([property: Id(0)] string Organization, [property: Id(1)] string Role, [property: Id(2)] DateTimeOffset IssuedAt);

public static class ApiKeyRoles
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Oracle = "oracle";
}
