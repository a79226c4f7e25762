namespace AgentDesk.Contracts.Agents;

/// <summary>The agents registered in one organisation (key <c>agents:{organisation}</c>), in registration order.</summary>
[Alias("agentdesk.agent-directory")]
public interface IAgentDirectoryGrain : IGrainWithStringKey
{
    [Alias("add")]
    Task AddAsync(Guid agentId);

    [Alias("list")]
    Task<IReadOnlyList<Guid>> ListAsync();
}
