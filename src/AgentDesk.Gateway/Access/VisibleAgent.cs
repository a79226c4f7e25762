using System.Security.Claims;
using AgentDesk.Contracts.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Http;

namespace AgentDesk.Gateway.Access;

/// <summary>The agent named by the route, resolved once by <see cref="VisibleAgentFilter"/> for the handler.</summary>
public sealed record VisibleAgent(Guid Id, AgentProfile Profile);

/// <summary>
/// Resolves <c>{agentId}</c> on a route group to the agent the caller may see. Another organisation's agent answers
/// 404 exactly like one that does not exist, never 403. Public groups (positions, signer rotation) resolve without the
/// organisation check.
/// </summary>
public sealed class VisibleAgentFilter(IClusterClient cluster, bool publicRead) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var found = await AgentLookup.FindAsync(cluster, publicRead ? null : context.HttpContext.User, context.HttpContext.GetRouteValue("agentId") as string);
        if (found.Rejection is { } rejection) return ApiProblems.For(rejection);
        context.HttpContext.Features.Set(found.Agent);
        return await next(context);
    }
}

public static class AgentLookup
{
    public readonly record struct Found(VisibleAgent? Agent, Rejection? Rejection);

    /// <summary>The agent with this id as <paramref name="user"/> may see it (any agent when <paramref name="user"/> is null).</summary>
    public static async Task<Found> FindAsync(IClusterClient cluster, ClaimsPrincipal? user, string? agentId)
    {
        if (!Guid.TryParse(agentId, out var id)) return new(null, NotAnAgentId(agentId));
        var agent = await cluster.GetGrain<IAgentGrain>(id).GetProfileAsync();
        if (agent is null || (user is not null && !user.CanSee(agent.Organization)))
            return new(null, new Rejection(Errors.AgentNotFound, $"Agent {id} does not exist."));
        return new(new VisibleAgent(id, agent), null);
    }

    /// <summary>The agent the route's filter resolved.</summary>
    public static VisibleAgent VisibleAgent(this HttpContext context) =>
        context.Features.Get<VisibleAgent>() ?? throw new InvalidOperationException("The route group has no VisibleAgentFilter.");

    /// <summary>The agent id the route's <see cref="WithAgentId"/> filter parsed.</summary>
    public static Guid RouteAgentId(this HttpContext context) =>
        context.Features.Get<RouteAgent>()?.Id ?? throw new InvalidOperationException("The route group has no agent id filter.");

    /// <summary>
    /// Parses <c>{agentId}</c> (400 <c>invalid_agent_id</c>) without looking the agent up: for public groups whose every
    /// handler calls an agent grain method that answers 404 <c>agent_not_found</c> for an agent that is not registered,
    /// so a request costs one grain call instead of two (the signed intents, docs/benchmarks.md).
    /// </summary>
    public static RouteGroupBuilder WithAgentId(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter((context, next) =>
        {
            var agentId = context.HttpContext.GetRouteValue("agentId") as string;
            if (!Guid.TryParse(agentId, out var id)) return ValueTask.FromResult<object?>(ApiProblems.For(NotAnAgentId(agentId)));
            context.HttpContext.Features.Set(new RouteAgent(id));
            return next(context);
        });
        return group;
    }

    private sealed record RouteAgent(Guid Id);

    private static Rejection NotAnAgentId(string? agentId) => new(Errors.InvalidAgentId, $"agentId must be a UUID; got '{Truncate(agentId)}'.");

    public static RouteGroupBuilder WithVisibleAgent(this RouteGroupBuilder group, bool publicRead = false)
    {
        group.AddEndpointFilterFactory((factory, next) =>
        {
            var filter = new VisibleAgentFilter(factory.ApplicationServices.GetRequiredService<IClusterClient>(), publicRead);
            return context => filter.InvokeAsync(context, next);
        });
        return group;
    }

    public static string Truncate(string? text, int length = 64) => text is null ? "" : text.Length <= length ? text : text[..length] + "…";
}
