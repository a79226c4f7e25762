using System.Security.Claims;
using AgentDesk.Contracts.Agents;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Agents;

/// <summary>Finds an agent the caller may see. Another organisation's agent is reported as not found, never as forbidden.</summary>
public static class AgentAccess
{
    public readonly record struct Found(Guid Id, AgentProfile? Agent, IResult? Error);

    public static async Task<Found> FindAsync(IClusterClient cluster, ClaimsPrincipal? user, string agentId, bool publicRead = false)
    {
        if (!Guid.TryParse(agentId, out var id))
            return new(Guid.Empty, null, Problems.Result("invalid_agent_id", $"agentId must be a UUID; got '{agentId}'."));
        var agent = await cluster.GetGrain<IAgentGrain>(id).GetProfileAsync();
        if (agent is null || (!publicRead && (user is null || !user.CanSee(agent.Organization))))
            return new(id, null, Problems.Result("agent_not_found", $"Agent {id} does not exist."));
        return new(id, agent, null);
    }
}
