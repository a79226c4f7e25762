using AgentDesk.Contracts.Access;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentDesk.Gateway.Access;

/// <summary>
/// Whether a long-lived request's credential still holds: an event stream can stay open for days, and a key revoked or
/// expired meanwhile (a leaked key, say) must stop receiving the organisation's events then, not when the stream happens
/// to end. Issued keys are looked up again (revoked, expired or deleted answers no); a bearer token holds until its
/// <c>exp</c>; the admin key from configuration holds for the process's life.
/// </summary>
public sealed class CredentialRecheck(IOptions<AuthOptions> auth, UnknownKeyLimit keys, TimeProvider clock)
{
    public async Task<bool> StillHoldsAsync(HttpContext context)
    {
        if (context.Request.Headers[AgentDeskAuthHandler.ApiKeyHeader].ToString() is { Length: > 0 } key)
        {
            if (AgentDeskAuthHandler.IsAdminKey(key, auth.Value)) return true;
            return key.Length <= AgentDeskAuthHandler.MaxKeyLength && await keys.LookUpAsync(AgentDeskAuthHandler.HashKey(key)) is ApiKeyView;
        }
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            // The token was validated when the request began; only its lifetime can have run out since.
            // With the clock skew authentication allows, so a stream opened in that margin is not ended at its first heartbeat.
            var token = new JsonWebToken(authorization["Bearer ".Length..].Trim());
            return token.ValidTo == DateTime.MinValue || token.ValidTo + TokenValidationParameters.DefaultClockSkew > clock.GetUtcNow().UtcDateTime;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
