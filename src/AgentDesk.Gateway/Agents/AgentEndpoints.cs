using System.Security.Claims;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Agents;

/// <summary>An agent as the API shows it (docs/api.md, "Agents").</summary>
public sealed record AgentView(
    Guid AgentId, string? Name, string? Description, string? ImageUrl, string AgentType, bool IsPublic, IReadOnlyList<AgentFeeView> Fees,
    string Organization, string? SignerAddress, string? OwnerId, string? Manager, string QuorumId, string Track, string? VaultId,
    decimal AllocationUsdc, long Nonce, int SubscriberCount, DateTimeOffset RegisteredAt, bool Paused)
{
    public static AgentView From(AgentProfile p) => new(p.AgentId, p.Name, p.Description, p.ImageUrl, p.AgentType.ToWire(), p.IsPublic,
        p.Fees.Select(f => new AgentFeeView(f.Partner, f.Fee, f.FeeAddress, f.Type.ToWire())).ToArray(), p.Organization, p.SignerAddress,
        p.OwnerId, p.Manager, p.QuorumId, p.Track, p.VaultId, p.AllocationUsdc, p.Nonce, p.SubscriberCount, p.RegisteredAt, p.Paused);
}

public sealed record AgentFeeView(string Partner, decimal Fee, string FeeAddress, string Type);

/// <summary>A page of the organisation's agents; <see cref="NextCursor"/> fetches the next page (null on the last).</summary>
public sealed record AgentList(IReadOnlyList<AgentView> Agents, string? NextCursor);

public static class AgentEndpoints
{
    public static void MapAgentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/agent/register", RegisterAsync).RequireAuthorization(Policies.Operator).WithTags("Agents")
            .WithName("registerAgent").WithSummary("Register an agent")
            .ProducesErrors(Errors.InvalidAgentId, Errors.InvalidAgentType, Errors.InvalidFee, Errors.FeeTooHigh, Errors.InvalidAddress,
                Errors.InvalidPublicKey, Errors.InvalidName, Errors.InvalidDescription, Errors.InvalidImageUrl, Errors.AgentAlreadyRegistered);

        app.MapGet("/api/v1/agents", ListAsync).RequireAuthorization(Policies.Operator).WithTags("Agents").WithName("listAgents")
            .WithSummary("The agents of the caller's organisation in registration order; ?limit= (1 to 500, default 100) and ?cursor= page through them")
            .ProducesErrors(Errors.InvalidQuery, Errors.InvalidCursor);

        var agents = app.MapGroup("/api/v1/agents/{agentId}").WithTags("Agents").ProducesErrors(Errors.InvalidAgentId, Errors.AgentNotFound);
        var operators = agents.MapGroup("").RequireAuthorization(Policies.Operator).WithVisibleAgent();
        operators.MapGet("", (HttpContext http) => TypedResults.Ok(AgentView.From(http.VisibleAgent().Profile)))
            .WithName("getAgent").WithSummary("The agent's profile");
        operators.MapPost("/subscribers", SubscribeAsync).WithName("subscribe").WithSummary("Subscribe an account of the agent's organisation")
            .ProducesErrors(Errors.InvalidAddress, Errors.AccountNotFound, Errors.AccountIsVault);
        operators.MapDelete("/subscribers/{smartAccount}", UnsubscribeAsync).WithName("unsubscribe").WithSummary("Unsubscribe an account")
            .ProducesErrors(Errors.InvalidAddress, Errors.NotSubscribed);
        operators.MapGet("/subscribers", ListSubscribersAsync).WithName("listSubscribers").WithSummary("The agent's subscribers");
        operators.MapPost("/pause", (HttpContext http, IClusterClient cluster) => SetPausedAsync(http, cluster, paused: true))
            .WithName("pauseAgent").WithSummary("Kill switch: the agent takes no batch and no intent; exits of open positions keep running");
        operators.MapPost("/resume", (HttpContext http, IClusterClient cluster) => SetPausedAsync(http, cluster, paused: false))
            .WithName("resumeAgent").WithSummary("Lift the kill switch");

        var risk = agents.MapGroup("").RequireAuthorization(Policies.Risk).WithVisibleAgent();
        risk.MapPut("/vault", BindVaultAsync).WithName("bindVault").WithSummary("Bind the agent to a vault of its organisation with an allocation (admin, risk)")
            .ProducesErrors(Errors.InvalidVaultId, Errors.InvalidAmount, Errors.VaultNotFound, Errors.AllocationExceedsCapital, Errors.TokenInUse,
                Errors.AccountIsVault);
        risk.MapPut("/track", SetTrackAsync).WithName("setTrack").WithSummary("Put the agent on a risk track: Evaluation, Funded, Prime (admin, risk)")
            .ProducesErrors(Errors.UnknownTrack);

        // Rotation authenticates by the current signer's signature, or by the admin key.
        agents.MapGroup("").WithVisibleAgent(publicRead: true).MapPut("/signer", RotateSignerAsync).AllowAnonymous().WithName("rotateSigner")
            .WithSummary("Rotate the agent's EIP-712 signer: signed by the current signer, or by the admin")
            .ProducesErrors(Errors.InvalidAddress, Errors.InvalidSignature, Errors.InvalidNonce, Errors.InvalidDeadline, Errors.NoSigner, Errors.DeadlineExpired, Errors.NonceMismatch);
    }

    private static async Task<Results<Ok<RegisterAgentResponse>, ProblemHttpResult>> RegisterAsync(RegisterAgentRequest request, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!Guid.TryParse(request.AgentId, out var agentId))
            return ApiProblems.For(Errors.InvalidAgentId, $"agentId must be a UUID; got '{AgentLookup.Truncate(request.AgentId)}'.");
        if (AgentTypes.Parse(request.AgentType) is not { } agentType)
            return ApiProblems.For(Errors.InvalidAgentType, $"agentType must be PERPETUAL or SWAP; got '{AgentLookup.Truncate(request.AgentType)}'.");
        var signer = request.SignerAddress;
        if (signer is null && request.PublicKey is not null)
        {
            var derived = PublicKeys.ToAddress(request.PublicKey);
            if (!derived.IsSuccess) return ApiProblems.For(derived.Rejection!);
            signer = derived.Value;
        }
        var fees = new List<AgentFee>();
        foreach (var (partner, fee) in request.AgentFees ?? [])
        {
            if (fee is null) return ApiProblems.For(Errors.InvalidFee, $"Fee '{AgentLookup.Truncate(partner)}' must be an object with fee, feeAddress and type; got null.");
            if (FeeTypes.Parse(fee.Type) is not { } type)
                return ApiProblems.For(Errors.InvalidFee, $"Fee '{AgentLookup.Truncate(partner)}' must have type FLAT or BPS; got '{AgentLookup.Truncate(fee.Type)}'.");
            fees.Add(new AgentFee(partner, fee.Fee ?? -1, fee.FeeAddress ?? "", type));
        }
        var registered = await cluster.GetGrain<IAgentGrain>(agentId).RegisterAsync(new AgentRegistration(request.Name, request.Description, request.ImageUrl,
            agentType, request.IsPublic ?? false, fees, user.Organization(), signer, request.OwnerId, request.Manager));
        return ApiResults.Of(registered, agent => new RegisterAgentResponse("success", "Agent registered successfully", agent.AgentId,
            agent.IsPublic ? "true" : "false", agent.Organization, agent.OwnerId, agent.Manager, agent.QuorumId, agent.AgentType.ToWire(), agent.ImageUrl,
            agent.Fees.Select(f => new FeeDataResponse(f.Partner, f.Fee, f.FeeAddress, f.Type.ToWire().ToLowerInvariant())).ToList(), agent.SignerAddress));
    }

    public const int MaxAgentsPerPage = 500;

    private static async Task<Results<Ok<AgentList>, ProblemHttpResult>> ListAsync(string? limit, string? cursor, ClaimsPrincipal user, IClusterClient cluster)
    {
        var size = 100;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size)
                || size is < 1 or > MaxAgentsPerPage))
            return ApiProblems.For(Errors.InvalidQuery, $"limit must be a whole number from 1 to {MaxAgentsPerPage}.");
        // The cursor is the position in the directory: agents are only ever appended to it, so pages never shift.
        var start = 0;
        if (cursor is not null && !int.TryParse(cursor, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out start))
            return ApiProblems.For(Errors.InvalidCursor, "cursor must be the nextCursor of a previous page.");
        var ids = await cluster.GetGrain<IAgentDirectoryGrain>(GrainKeys.AgentDirectory(user.Organization())).ListAsync();
        var page = ids.Skip(start).Take(size).ToList();
        var profiles = await Task.WhenAll(page.Select(id => cluster.GetGrain<IAgentGrain>(id).GetProfileAsync()));
        var next = start + page.Count < ids.Count ? (start + page.Count).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return TypedResults.Ok(new AgentList(profiles.OfType<AgentProfile>().Select(AgentView.From).ToList(), next));
    }

    private static async Task<Results<Ok<SubscriptionView>, ProblemHttpResult>> SubscribeAsync(SubscriberRequest request, HttpContext http, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(request.SmartAccount)) return InvalidAddress("smartAccount", request.SmartAccount);
        return ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.VisibleAgent().Id).SubscribeAsync(request.SmartAccount));
    }

    private static async Task<Results<Ok<SubscriptionView>, ProblemHttpResult>> UnsubscribeAsync(string smartAccount, HttpContext http, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(smartAccount)) return InvalidAddress("smartAccount", smartAccount);
        return ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.VisibleAgent().Id).UnsubscribeAsync(smartAccount));
    }

    private static async Task<Ok<SubscribersResponse>> ListSubscribersAsync(HttpContext http, IClusterClient cluster)
    {
        var agentId = http.VisibleAgent().Id;
        var subscribers = await SubscriberPages.ReadAllAsync(cluster, agentId);
        return TypedResults.Ok(new SubscribersResponse(agentId, subscribers.Count, subscribers));
    }

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> BindVaultAsync(VaultBindingRequest request, HttpContext http, IClusterClient cluster)
    {
        var agent = http.VisibleAgent();
        if (!ClientIds.IsValid(request.VaultId)) return ApiProblems.For(Errors.InvalidVaultId, "vaultId is required (at most 128 characters).");
        var allocation = Money.ParseAmount(request.AllocationUsdc, "allocationUsdc");
        if (!allocation.IsSuccess) return ApiProblems.For(allocation.Rejection!);
        // An agent trades only a vault of its own organisation: another organisation's capital is not reachable.
        var vault = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(request.VaultId)).GetAsync();
        if (vault is null || vault.Organization != agent.Profile.Organization || !http.User.CanSee(vault.Organization))
            return ApiProblems.For(Errors.VaultNotFound, $"Vault {request.VaultId} does not exist in organisation {agent.Profile.Organization}.");
        return ApiResults.Of(await cluster.GetGrain<IAgentGrain>(agent.Id).BindVaultAsync(request.VaultId, allocation.Value), AgentView.From);
    }

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> SetTrackAsync(TrackRequest request, HttpContext http, IClusterClient cluster) =>
        ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.VisibleAgent().Id).SetTrackAsync(request.Track ?? ""), AgentView.From);

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> SetPausedAsync(HttpContext http, IClusterClient cluster, bool paused) =>
        ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.VisibleAgent().Id).SetPausedAsync(paused, http.User.CredentialId() ?? "unknown"), AgentView.From);

    private static async Task<Results<Ok<AgentView>, ProblemHttpResult>> RotateSignerAsync(RotateSignerRequest request, HttpContext http, IClusterClient cluster)
    {
        var rotation = new SignerRotation(request.SignerAddress ?? "", request.Deadline ?? 0, request.Nonce ?? -1, request.Signature);
        return ApiResults.Of(await cluster.GetGrain<IAgentGrain>(http.VisibleAgent().Id).RotateSignerAsync(rotation, byAdmin: http.User.IsAdmin()), AgentView.From);
    }

    public static ProblemHttpResult InvalidAddress(string field, string? value) =>
        ApiProblems.For(Errors.InvalidAddress, $"{field} must be 0x followed by 40 hex digits (mixed case must carry its EIP-55 checksum); got '{AgentLookup.Truncate(value)}'.");
}
