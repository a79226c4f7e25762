using AgentDesk.Testing;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AgentDesk.Gateway.Tests;

[Collection(GatewayCollection.Name)]
public sealed class AuthTests(GatewayFixture gateway)
{
    private readonly HttpClient _admin = gateway.Http;

    private async Task<string> IssueAsync(string role, string organization) =>
        (await _admin.PostAsync("/api/v1/api-keys", new { role, organization }).OkAsync())["apiKey"]!.GetValue<string>();

    [Fact]
    public async Task Missing_or_unknown_credentials_are_401_and_a_wrong_role_is_403()
    {
        using var anonymous = gateway.Client();
        await anonymous.PostAsync("/agent/register", new { agentId = Guid.NewGuid() }).ProblemAsync(401, "unauthenticated");
        using var unknown = gateway.Client(apiKey: "adk_not-a-key");
        await unknown.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(401, "invalid_credentials");

        using var oracle = gateway.Client(await IssueAsync("oracle", "Oracles"));
        await oracle.PostAsync("/agent/register", new { agentId = Guid.NewGuid() }).ProblemAsync(403, "forbidden");
        await oracle.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol = TestData.NewSymbol(), priceUsd = "1" } } }).OkAsync();

        using var operatorKey = gateway.Client(await IssueAsync("operator", "OrgA"));
        await operatorKey.PostAsync("/api/v1/api-keys", new { role = "operator", organization = "OrgA" }).ProblemAsync(403, "forbidden");
        await _admin.PostAsync("/api/v1/api-keys", new { role = "root", organization = "OrgA" }).ProblemAsync(400, "invalid_role");
    }

    [Fact]
    public async Task An_organisation_cannot_see_another_organisations_agents()
    {
        using var orgA = gateway.Client(await IssueAsync("operator", "OrgA-" + Guid.NewGuid().ToString("N")[..6]));
        using var orgB = gateway.Client(await IssueAsync("operator", "OrgB-" + Guid.NewGuid().ToString("N")[..6]));
        var agentId = Guid.NewGuid().ToString();
        var registered = await orgA.PostAsync("/agent/register", new { agentId, name = "A's agent" }).OkAsync();
        Assert.StartsWith("OrgA-", registered["organization"]!.GetValue<string>());

        await orgA.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync();
        await orgB.GetJsonAsync($"/api/v1/agent-positions/{agentId}").ProblemAsync(404, "agent_not_found");
        await orgB.PostAsync("/agent/batch-open", new { agentId, symbol = "SOL", action = "LONG", weight = 10, leverage = 2 }).ProblemAsync(404, "agent_not_found");
        await orgB.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = TestData.NewAddress() }).ProblemAsync(404, "agent_not_found");
        await _admin.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync(); // the admin sees every organisation
    }

    [Fact]
    public async Task The_admin_acts_in_the_organisation_X_Organization_names_and_a_name_no_organisation_can_have_is_refused()
    {
        var organisation = "Acme-" + Guid.NewGuid().ToString("N")[..6];
        using var inAcme = gateway.Client(GatewayFixture.AdminKey);
        inAcme.DefaultRequestHeaders.Add("X-Organization", organisation);
        var agentId = Guid.NewGuid().ToString();
        Assert.Equal(organisation, (await inAcme.PostAsync("/agent/register", new { agentId }).OkAsync())["organization"]!.GetValue<string>());

        // A typo must not register the agent in the admin's own organisation, where Acme's operators would never find it.
        using var typo = gateway.Client(GatewayFixture.AdminKey);
        typo.DefaultRequestHeaders.Add("X-Organization", "acme corp");
        var other = Guid.NewGuid().ToString();
        var refused = await typo.PostAsync("/agent/register", new { agentId = other }).ProblemAsync(401, "invalid_credentials");
        Assert.Contains("X-Organization", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await _admin.GetJsonAsync($"/api/v1/agents/{other}").ProblemAsync(404, "agent_not_found");
    }

    [Fact]
    public async Task An_issued_key_and_a_jwt_bearer_token_both_authenticate_and_a_forged_token_is_refused()
    {
        var key = await IssueAsync("operator", "Hashed");
        Assert.StartsWith("adk_", key);
        using var withKey = gateway.Client(key);
        await withKey.PostAsync("/api/v1/accounts", new { smartAccount = TestData.NewAddress() }).OkAsync();

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("sub", "dashboard"), new Claim("org", "JwtOrg"), new Claim("role", "operator")]),
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(GatewayFixture.JwtKey)), SecurityAlgorithms.HmacSha256),
        });
        using var bearer = gateway.Client(bearer: token);
        var registered = await bearer.PostAsync("/agent/register", new { agentId = Guid.NewGuid() }).OkAsync();
        Assert.Equal("JwtOrg", registered["organization"]!.GetValue<string>());

        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Subject = new ClaimsIdentity([new Claim("org", "JwtOrg"), new Claim("role", "admin")]),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes("another-key-another-key-another-key-!")), SecurityAlgorithms.HmacSha256),
        });
        using var forger = gateway.Client(bearer: forged);
        await forger.PostAsync("/agent/register", new { agentId = Guid.NewGuid() }).ProblemAsync(401, "invalid_credentials");
    }

    [Fact]
    public async Task Public_endpoints_need_no_credentials()
    {
        using var anonymous = gateway.Client();
        Assert.Equal("healthy", (await anonymous.GetJsonAsync("/health").OkAsync())["status"]!.GetValue<string>());
        await anonymous.GetJsonAsync("/prices").OkAsync();
        var document = await anonymous.GetJsonAsync("/openapi/v1.json").OkAsync();
        var paths = document["paths"]!.AsObject();
        foreach (var path in new[]
        {
            "/agent/register", "/agent/batch-open", "/agent/batch-close", "/api/v1/agent-positions/{agentId}",
            "/api/v1/agent-positions/{agentId}/{positionId}/close", "/agents/{agentId}/trade-intents/quote", "/agents/{agentId}/trade-intents",
            "/agents/{agentId}/add-intents", "/agents/{agentId}/reduce-intents", "/agents/{agentId}/exit-ladder-intents", "/agents/{agentId}/positions",
            "/vaults/{vaultId}/tokens", "/prices", "/api/v1/api-keys", "/api/v1/accounts", "/api/v1/accounts/{smartAccount}/deposits",
            "/api/v1/accounts/{smartAccount}", "/api/v1/agents/{agentId}/subscribers", "/api/v1/agents/{agentId}/subscribers/{smartAccount}",
            "/api/v1/vaults", "/api/v1/vaults/{vaultId}/tokens/{symbol}", "/api/v1/agents/{agentId}/vault", "/api/v1/agents/{agentId}/track",
            "/api/v1/prices", "/api/v1/batches/{batchId}", "/api/v1/fees/{feeAddress}", "/health",
        })
            Assert.True(paths.ContainsKey(path), $"{path} is missing from /openapi/v1.json");
        var example = paths["/agent/batch-open"]!["post"]!["requestBody"]!["content"]!["application/json"]!["example"]!;
        Assert.Equal("63946153-9f33-4b7e-9b32-b99a4a6037e2", example["agentId"]!.GetValue<string>());
    }
}
