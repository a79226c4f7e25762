using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using AgentDesk.Contracts.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentDesk.Gateway.Infrastructure;

/// <summary>Section <c>AgentDesk:Auth</c>.</summary>
public sealed class AuthOptions
{
    /// <summary>The admin key (environment <c>AgentDesk__Auth__AdminKey</c>). Without one, only issued keys and JWTs work.</summary>
    public string? AdminKey { get; set; }

    /// <summary>The organisation agents registered with the admin key belong to.</summary>
    public string AdminOrganization { get; set; } = "AgentDesk";

    /// <summary>HMAC-SHA256 key for JWT bearer tokens (at least 32 bytes). Tokens carry <c>org</c> and <c>role</c> claims.</summary>
    public string? JwtSigningKey { get; set; }

    public string? JwtIssuer { get; set; }
    public string? JwtAudience { get; set; }
}

public static class Claims
{
    public const string OrgClaim = "org";
    public const string RoleClaim = "role";
    public const string KeyClaim = "key";

    public static string Organization(this ClaimsPrincipal user) => user.FindFirstValue(OrgClaim) ?? "";

    public static bool IsAdmin(this ClaimsPrincipal user) => user.FindFirstValue(RoleClaim) == ApiKeyRoles.Admin;

    /// <summary>Admins see every organisation; everyone else only their own.</summary>
    public static bool CanSee(this ClaimsPrincipal user, string organization) => user.IsAdmin() || user.Organization() == organization;
}

/// <summary>
/// One scheme for both credentials the API accepts: <c>x-api-key</c> (the admin key from configuration, or
/// an issued key looked up by its SHA-256 hash) and <c>Authorization: Bearer</c> JWTs signed with the
/// configured key. Challenges and refusals are problem details with a code.
/// </summary>
public sealed class AgentDeskAuthHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth,
    IClusterClient cluster) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AgentDesk";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.TryGetValue("x-api-key", out var keys) && keys.ToString() is { Length: > 0 } key)
        {
            if (auth.Value.AdminKey is { Length: > 0 } admin && FixedTimeEquals(key, admin))
                return Success(ApiKeyRoles.Admin, auth.Value.AdminOrganization, "admin");
            var hash = HashKey(key);
            var issued = await cluster.GetGrain<IApiKeyGrain>($"apikey:{hash}").GetAsync();
            return issued is null ? AuthenticateResult.Fail("Unknown API key.") : Success(issued.Role, issued.Organization, hash[..16]);
        }

        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && auth.Value.JwtSigningKey is { Length: > 0 } signingKey)
        {
            var validated = await new JsonWebTokenHandler().ValidateTokenAsync(authorization["Bearer ".Length..].Trim(), new TokenValidationParameters
            {
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                ValidateIssuer = auth.Value.JwtIssuer is not null,
                ValidIssuer = auth.Value.JwtIssuer,
                ValidateAudience = auth.Value.JwtAudience is not null,
                ValidAudience = auth.Value.JwtAudience,
                ValidateLifetime = true,
            });
            if (!validated.IsValid) return AuthenticateResult.Fail("Invalid bearer token.");
            var role = validated.Claims.TryGetValue(Claims.RoleClaim, out var r) ? r?.ToString() : null;
            var org = validated.Claims.TryGetValue(Claims.OrgClaim, out var o) ? o?.ToString() : null;
            if (role is null || org is null) return AuthenticateResult.Fail("The token needs org and role claims.");
            var subject = validated.Claims.TryGetValue("sub", out var sub) ? sub?.ToString() ?? "jwt" : "jwt";
            return Success(role, org, "jwt:" + subject);
        }
        return AuthenticateResult.NoResult();
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, "unauthenticated", "Send an x-api-key header or a bearer token.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.WriteAsync(Context, "forbidden", "This key's role may not call this endpoint.");

    public static string HashKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private AuthenticateResult Success(string role, string organization, string keyId)
    {
        var identity = new ClaimsIdentity([new Claim(Claims.RoleClaim, role), new Claim(Claims.OrgClaim, organization), new Claim(Claims.KeyClaim, keyId)], SchemeName, null, Claims.RoleClaim);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

public static class Policies
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Oracle = "oracle";
}
