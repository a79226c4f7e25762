using AgentDesk.Contracts.Agents;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Agents;

public sealed class AgentDirectoryState
{
    public List<Guid> Agents { get; set; } = [];
}

/// <summary>The agents of one organisation in registration order, for <c>GET /api/v1/agents</c> and the console.</summary>
[GrainType("agent-directory")]
public sealed class AgentDirectoryGrain(
    [PersistentState(StorageNames.AgentDirectory, StorageNames.Provider)] IPersistentState<AgentDirectoryState> state) : Grain, IAgentDirectoryGrain
{
    // A HashSet beside the list keeps a re-add (an agent's retry, or its activation) from scanning the list.
    private HashSet<Guid>? _known;

    public async Task AddAsync(Guid agentId)
    {
        _known ??= [.. state.State.Agents];
        if (!_known.Add(agentId)) return;
        state.State.Agents.Add(agentId);
        await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<Guid>> ListAsync() => Task.FromResult<IReadOnlyList<Guid>>(state.State.Agents.ToArray());
}
