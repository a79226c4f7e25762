using System.Security.Cryptography;
using AgentDesk.Contracts.Access;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Keys;

public sealed record IssueKeyRequest(string? Role, string? Organization);
public sealed record IssueKeyResponse(string ApiKey, string Role, string Organization);

public static class KeyEndpoints
{
    public static void MapKeyEndpoints(this IEndpointRouteBuilder app) =>
        app.MapPost("/api/v1/api-keys", IssueAsync).RequireAuthorization(Policies.Admin).WithTags("Access")
            .Accepts<IssueKeyRequest>("application/json").Produces<IssueKeyResponse>()
            .WithSummary("Issue an API key for an organisation and role (operator or oracle). The key is shown once and stored hashed.");

    private static async Task<IResult> IssueAsync(HttpRequest http, IClusterClient cluster, TimeProvider clock)
    {
        var body = await Json.ReadAsync<IssueKeyRequest>(http);
        if (body.Error is not null) return body.Error;
        var role = body.Value!.Role?.ToLowerInvariant();
        if (role is not (ApiKeyRoles.Operator or ApiKeyRoles.Oracle))
            return Problems.Result("invalid_role", "role must be operator or oracle.");
        if (string.IsNullOrWhiteSpace(body.Value.Organization) || body.Value.Organization.Length > 100)
            return Problems.Result("invalid_organization", "organization is required (at most 100 characters).");
        var key = "adk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await cluster.GetGrain<IApiKeyGrain>($"apikey:{AgentDeskAuthHandler.HashKey(key)}").IssueAsync(body.Value.Organization, role, clock.GetUtcNow());
        return Results.Ok(new IssueKeyResponse(key, role, body.Value.Organization));
    }
}
