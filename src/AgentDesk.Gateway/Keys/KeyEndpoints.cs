using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using AgentDesk.Contracts.Access;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Keys;

/// <param name="ExpiresAt">Optional: the key stops working at this time.</param>
public sealed record IssueKeyRequest([property: Required] string? Role, [property: Required] string? Organization, DateTimeOffset? ExpiresAt) : IRequestBody;

/// <summary>The issued key is shown once, here; only its hash is stored.</summary>
public sealed record IssueKeyResponse(string ApiKey, string KeyId, string Role, string Organization, DateTimeOffset? ExpiresAt);

/// <summary>API keys (admin only; docs/security.md, "Credentials").</summary>
public static class KeyEndpoints
{
    public static void MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/api/v1/api-keys").RequireAuthorization(Policies.Admin).WithTags("Access");
        keys.MapPost("", IssueAsync).WithName("issueApiKey")
            .WithSummary("Issue an API key for an organisation and role (operator, oracle or risk), optionally expiring")
            .ProducesErrors(Errors.InvalidRole, Errors.InvalidOrganization, Errors.InvalidExpiry);
        keys.MapGet("", ListAsync).WithName("listApiKeys").WithSummary("Every issued key: id, role, organisation, created, expires, revoked (never the secret)");
        keys.MapDelete("/{keyId}", RevokeAsync).WithName("revokeApiKey").WithSummary("Revoke a key at once, on every gateway").ProducesErrors(Errors.KeyNotFound);
    }

    private static async Task<Results<Ok<IssueKeyResponse>, ProblemHttpResult>> IssueAsync(IssueKeyRequest request, IClusterClient cluster, TimeProvider clock)
    {
        var role = request.Role?.ToLowerInvariant();
        if (role is null || !ApiKeyRoles.Issuable.Contains(role))
            return ApiProblems.For(Errors.InvalidRole, $"role must be one of {string.Join(", ", ApiKeyRoles.Issuable)}.");
        if (!Organizations.IsValid(request.Organization))
            return ApiProblems.For(Errors.InvalidOrganization, $"organization is 1 to {Organizations.MaxLength} letters, digits, '.', '-' or '_'.");
        var now = clock.GetUtcNow();
        if (request.ExpiresAt is { } expires && expires <= now) return ApiProblems.For(Errors.InvalidExpiry, "expiresAt must be in the future.");
        var key = "adk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var keyId = "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var issued = await cluster.GetGrain<IApiKeyDirectoryGrain>(GrainKeys.ApiKeyDirectory)
            .IssueAsync(new ApiKeyIssue(keyId, AgentDeskAuthHandler.HashKey(key), request.Organization, role, now, request.ExpiresAt));
        return ApiResults.Of(issued, view => new IssueKeyResponse(key, view.KeyId, view.Role, view.Organization, view.ExpiresAt));
    }

    private static async Task<Ok<IReadOnlyList<ApiKeyView>>> ListAsync(IClusterClient cluster) =>
        TypedResults.Ok(await cluster.GetGrain<IApiKeyDirectoryGrain>(GrainKeys.ApiKeyDirectory).ListAsync());

    private static async Task<Results<Ok<ApiKeyView>, ProblemHttpResult>> RevokeAsync(string keyId, IClusterClient cluster, TimeProvider clock) =>
        keyId.Length > 64
            ? ApiProblems.For(Errors.KeyNotFound, "No such API key.")
            : ApiResults.Of(await cluster.GetGrain<IApiKeyDirectoryGrain>(GrainKeys.ApiKeyDirectory).RevokeAsync(keyId, clock.GetUtcNow()));
}
