using System.Security.Claims;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Infrastructure;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Agents;

public sealed record AgentFeeRequest(decimal Fee, string? FeeAddress, string? Type);

/// <summary><c>POST /agent/register</c> (seed 003), plus <c>signerAddress</c> or <c>publicKey</c> for EIP-712 intents.</summary>
public sealed record RegisterAgentRequest(
    string? AgentId, string? Name, string? Description, string? ImageUrl, string? AgentType, bool? IsPublic,
    Dictionary<string, AgentFeeRequest>? AgentFees, string? SignerAddress, string? PublicKey, string? OwnerId, string? Manager);

public sealed record FeeDataResponse(string Partner, decimal Fee, string FeeAddress, string FeeType);

public sealed record RegisterAgentResponse(
    string Status, string Message, Guid AgentId, string IsPublic, string Organization, string? OwnerId, string? Manager,
    string QuorumId, string AgentType, string? ImageUrl, IReadOnlyList<FeeDataResponse> FeeData, string? SignerAddress);

public sealed record SubscriberRequest(string? SmartAccount);
public sealed record SubscribersResponse(Guid AgentId, int SubscriberCount, IReadOnlyList<string> Subscribers);
public sealed record VaultBindingRequest(string? VaultId, string? AllocationUsdc);
public sealed record TrackRequest(string? Track);

public static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/agent/register", RegisterAsync).RequireAuthorization(Policies.Operator).WithTags("Agents")
            .Accepts<RegisterAgentRequest>("application/json").Produces<RegisterAgentResponse>().ProducesProblem(400).ProducesProblem(409)
            .WithSummary("Register an agent (seed 003)");

        var agents = app.MapGroup("/api/v1/agents/{agentId}").RequireAuthorization(Policies.Operator).WithTags("Agents");
        agents.MapPost("/subscribers", SubscribeAsync).Accepts<SubscriberRequest>("application/json").Produces<SubscriptionView>().ProducesProblem(404)
            .WithSummary("Subscribe an account to the agent");
        agents.MapDelete("/subscribers/{smartAccount}", UnsubscribeAsync).Produces<SubscriptionView>().ProducesProblem(404)
            .WithSummary("Unsubscribe an account");
        agents.MapGet("/subscribers", ListSubscribersAsync).Produces<SubscribersResponse>().WithSummary("List the agent's subscribers");
        agents.MapPut("/vault", BindVaultAsync).Accepts<VaultBindingRequest>("application/json").Produces<AgentProfile>()
            .WithSummary("Bind the agent to a vault with an allocation");
        agents.MapPut("/track", SetTrackAsync).Accepts<TrackRequest>("application/json").Produces<AgentProfile>()
            .WithSummary("Put the agent on a risk track (Evaluation, Funded, Prime)");
        agents.MapGet("", GetAsync).Produces<AgentProfile>().WithSummary("The agent's profile");
    }

    private static async Task<IResult> RegisterAsync(HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var body = await Json.ReadAsync<RegisterAgentRequest>(http);
        if (body.Error is not null) return body.Error;
        var request = body.Value!;
        if (!Guid.TryParse(request.AgentId, out var agentId))
            return Problems.Result("invalid_agent_id", $"agentId must be a UUID; got '{request.AgentId}'.");

        var signer = request.SignerAddress;
        if (signer is null && request.PublicKey is not null)
        {
            var derived = PublicKeys.ToAddress(request.PublicKey);
            if (!derived.IsSuccess) return Problems.Result(derived.Rejection!.Code, derived.Rejection.Message);
            signer = derived.Value;
        }
        var fees = (request.AgentFees ?? []).Select(f => new AgentFeeMessage(f.Key, f.Value.Fee, f.Value.FeeAddress ?? "", (f.Value.Type ?? "").ToUpperInvariant())).ToList();
        var organization = user.IsAdmin() ? http.HttpContext.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AdminOrganization : user.Organization();
        var registered = await cluster.GetGrain<IAgentGrain>(agentId).RegisterAsync(new AgentRegistration(request.Name, request.Description, request.ImageUrl,
            request.AgentType ?? "PERPETUAL", request.IsPublic ?? false, fees, organization, signer, request.OwnerId, request.Manager));
        if (!registered.IsSuccess) return Problems.From(registered.Problem!);
        var agent = registered.Value!;
        return Results.Ok(new RegisterAgentResponse("success", "Agent registered successfully", agent.AgentId, agent.IsPublic ? "true" : "false",
            agent.Organization, agent.OwnerId, agent.Manager, agent.QuorumId, agent.AgentType, agent.ImageUrl,
            agent.Fees.Select(f => new FeeDataResponse(f.Partner, f.Fee, f.FeeAddress, f.Type.ToLowerInvariant())).ToList(), agent.SignerAddress));
    }

    private static async Task<IResult> GetAsync(string agentId, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        return found.Error ?? Results.Ok(found.Agent);
    }

    private static async Task<IResult> SubscribeAsync(string agentId, HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        var body = await Json.ReadAsync<SubscriberRequest>(http);
        if (body.Error is not null) return body.Error;
        if (!EthAddress.IsValid(body.Value!.SmartAccount)) return InvalidAddress("smartAccount", body.Value.SmartAccount);
        var result = await cluster.GetGrain<IAgentGrain>(found.Id).SubscribeAsync(body.Value.SmartAccount!);
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> UnsubscribeAsync(string agentId, string smartAccount, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        if (!EthAddress.IsValid(smartAccount)) return InvalidAddress("smartAccount", smartAccount);
        var result = await cluster.GetGrain<IAgentGrain>(found.Id).UnsubscribeAsync(smartAccount);
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> ListSubscribersAsync(string agentId, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        var subscribers = await SubscribersAsync(cluster, found.Id);
        return Results.Ok(new SubscribersResponse(found.Id, subscribers.Count, subscribers));
    }

    public static async Task<IReadOnlyList<string>> SubscribersAsync(IClusterClient cluster, Guid agentId)
    {
        var pages = await cluster.GetGrain<IAgentGrain>(agentId).GetSubscriberPageCountAsync();
        var lists = await Task.WhenAll(Enumerable.Range(0, pages).Select(p => cluster.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(agentId, p)).GetAccountsAsync()));
        return lists.SelectMany(l => l).ToList();
    }

    private static async Task<IResult> BindVaultAsync(string agentId, HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        var body = await Json.ReadAsync<VaultBindingRequest>(http);
        if (body.Error is not null) return body.Error;
        if (string.IsNullOrWhiteSpace(body.Value!.VaultId)) return Problems.Result("invalid_vault_id", "vaultId is required.");
        var allocation = Domain.Common.Money.ParseAmount(body.Value.AllocationUsdc, "allocationUsdc");
        if (!allocation.IsSuccess) return Problems.Result(allocation.Rejection!.Code, allocation.Rejection.Message);
        var vault = await cluster.GetGrain<Contracts.Vaults.IVaultGrain>(GrainKeys.Vault(body.Value.VaultId)).GetAsync();
        if (vault is null || !user.CanSee(vault.Organization)) return Problems.Result("vault_not_found", $"Vault {body.Value.VaultId} does not exist.");
        var result = await cluster.GetGrain<IAgentGrain>(found.Id).BindVaultAsync(body.Value.VaultId, allocation.Value);
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> SetTrackAsync(string agentId, HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var found = await AgentAccess.FindAsync(cluster, user, agentId);
        if (found.Error is not null) return found.Error;
        var body = await Json.ReadAsync<TrackRequest>(http);
        if (body.Error is not null) return body.Error;
        var result = await cluster.GetGrain<IAgentGrain>(found.Id).SetTrackAsync(body.Value!.Track ?? "");
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    public static IResult InvalidAddress(string field, string? value) =>
        Problems.Result("invalid_address", $"{field} must be 0x followed by 40 hex digits; got '{value}'.");
}
