using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using AgentDesk.Contracts.Access;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentDesk.Gateway.Access;

/// <summary>Section <c>AgentDesk:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string Section = "AgentDesk:Auth";

    /// <summary>The admin key (environment <c>AgentDesk__Auth__AdminKey</c>). Without one, only issued keys and JWTs work.</summary>
    [MinLength(16)]
    public string? AdminKey { get; set; }

    /// <summary>The organisation the admin acts in unless it names another in the <c>X-Organization</c> header.</summary>
    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string AdminOrganization { get; set; } = "AgentDesk";

    /// <summary>HMAC-SHA256 key for JWT bearer tokens (at least 32 bytes). Tokens carry <c>org</c> and <c>role</c> claims.</summary>
    [MinLength(32)]
    public string? JwtSigningKey { get; set; }

    public string? JwtIssuer { get; set; }
    public string? JwtAudience { get; set; }
}

public static class Claims
{
    public const string OrgClaim = "org";
    public const string RoleClaim = "role";
    public const string KeyClaim = "key";

    /// <summary>The header an admin uses to act in another organisation.</summary>
    public const string OrganizationHeader = "X-Organization";

    public static string Role(this ClaimsPrincipal user) => user.FindFirstValue(RoleClaim) ?? "";

    public static bool IsAdmin(this ClaimsPrincipal user) => user.Role() == ApiKeyRoles.Admin;

    /// <summary>The organisation the caller acts in: its own; for the admin, the one named in X-Organization or the admin's.</summary>
    public static string Organization(this ClaimsPrincipal user) => user.FindFirstValue(OrgClaim) ?? "";

    /// <summary>Admins see every organisation; everyone else only their own.</summary>
    public static bool CanSee(this ClaimsPrincipal user, string organization) => user.IsAdmin() || user.Organization() == organization;

    /// <summary>The credential a request is rate-limited and audited under.</summary>
    public static string? CredentialId(this ClaimsPrincipal user) => user.FindFirstValue(KeyClaim);
}

/// <summary>
/// One scheme for both credentials the API accepts: <c>x-api-key</c> (the admin key from configuration, or an issued
/// key looked up by its SHA-256 in the key directory) and <c>Authorization: Bearer</c> JWTs signed with the configured
/// key. A missing credential answers <c>unauthenticated</c>, a rejected one <c>invalid_credentials</c>.
/// </summary>
public sealed class AgentDeskAuthHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth,
    UnknownKeyLimit unknownKeys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AgentDesk";
    public const string ApiKeyHeader = "x-api-key";

    /// <summary>Longer than any key the directory issues: refused without hashing or a lookup.</summary>
    public const int MaxKeyLength = 128;

    private const string RejectedItem = "agentdesk.credential-rejected";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Request.Headers.TryGetValue(ApiKeyHeader, out var keys) && keys.ToString() is { Length: > 0 } key)
        {
            if (IsAdminKey(key, auth.Value)) return AdminOrganization() is { } acting ? Success(ApiKeyRoles.Admin, acting, "admin") : BadOrganization();
            // Keys longer than any issued key are refused before hashing or any grain call.
            if (key.Length > MaxKeyLength) return Reject("Unknown API key.");
            var hash = Context.Items[UnknownKeyLimit.HashItem] as string ?? HashKey(key);
            // Shared with requests for the same key in flight; a key refused a moment ago is refused without asking (UnknownKeyLimit).
            var issued = await unknownKeys.LookUpAsync(hash);
            return issued is null ? Reject("Unknown, expired or revoked API key.") : Success(issued.Role, issued.Organization, issued.KeyId);
        }

        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            if (auth.Value.JwtSigningKey is not { Length: > 0 } signingKey) return Reject("Bearer tokens are not enabled on this gateway.");
            var validated = await new JsonWebTokenHandler().ValidateTokenAsync(authorization["Bearer ".Length..].Trim(), new TokenValidationParameters
            {
                IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)),
                ValidateIssuer = auth.Value.JwtIssuer is not null,
                ValidIssuer = auth.Value.JwtIssuer,
                ValidateAudience = auth.Value.JwtAudience is not null,
                ValidAudience = auth.Value.JwtAudience,
                ValidateLifetime = true,
            });
            if (!validated.IsValid) return Reject("Invalid bearer token.");
            var role = validated.Claims.TryGetValue(Claims.RoleClaim, out var r) ? r?.ToString() : null;
            var org = validated.Claims.TryGetValue(Claims.OrgClaim, out var o) ? o?.ToString() : null;
            if (role is null || !Organizations.IsValid(org)) return Reject("The token needs org and role claims.");
            // The credential a token is limited and audited under names its organisation: the same subject in two
            // organisations (or tokens without one) must not share a rate-limit bucket.
            var subject = validated.Claims.TryGetValue("sub", out var sub) ? sub?.ToString() ?? "" : "";
            var credential = $"jwt:{org}:{subject}";
            if (role != ApiKeyRoles.Admin) return Success(role, org!, credential);
            return AdminOrganization() is { } acting ? Success(role, acting, credential) : BadOrganization();
        }
        return AuthenticateResult.NoResult();
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) => Context.Items.ContainsKey(RejectedItem)
        ? ApiProblems.WriteAsync(Context, Errors.InvalidCredentials, (string)Context.Items[RejectedItem]!)
        : ApiProblems.WriteAsync(Context, Errors.Unauthenticated, "Send an x-api-key header or a bearer token.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiProblems.WriteAsync(Context, Errors.Forbidden, $"The {Context.User.Role()} role may not call this endpoint.");

    public static bool IsAdminKey(string key, AuthOptions auth) => auth.AdminKey is { Length: > 0 } admin && FixedTimeEquals(key, admin);

    public static string HashKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>
    /// The admin acts in the organisation named in X-Organization, or in its own; null when the header names none that can
    /// exist (the admin would otherwise act, unaware, in its own organisation).
    /// </summary>
    private string? AdminOrganization() => Request.Headers[Claims.OrganizationHeader].ToString() is { Length: > 0 } named
        ? Organizations.IsValid(named) ? named : null
        : auth.Value.AdminOrganization;

    private AuthenticateResult BadOrganization() =>
        Reject($"{Claims.OrganizationHeader} must name an organisation: 1 to 64 letters, digits, '.', '_' or '-'.");

    private AuthenticateResult Reject(string why)
    {
        Context.Items[RejectedItem] = why;
        return AuthenticateResult.Fail(why);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    private static AuthenticateResult Success(string role, string organization, string keyId)
    {
        var identity = new ClaimsIdentity([new Claim(Claims.RoleClaim, role), new Claim(Claims.OrgClaim, organization), new Claim(Claims.KeyClaim, keyId)],
            SchemeName, null, Claims.RoleClaim);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>Authorization policies by role (docs/security.md has the full table).</summary>
public static class Policies
{
    public const string Admin = "admin";
    public const string Operator = "operator";
    public const string Oracle = "oracle";

    /// <summary>Risk settings: tracks, allocations, vault capital.</summary>
    public const string Risk = "risk";

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationBuilder builder) => builder
        .AddPolicy(Admin, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin))
        .AddPolicy(Operator, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin, ApiKeyRoles.Operator))
        .AddPolicy(Oracle, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin, ApiKeyRoles.Oracle))
        .AddPolicy(Risk, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin, ApiKeyRoles.Risk));
}
