using AgentDesk.Contracts.Access;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Access;

public sealed class ApiKeyState
{
    public ApiKeyView? Key { get; set; }
}

[GrainType("api-key")]
public sealed class ApiKeyGrain(
    [PersistentState("apiKey", StorageNames.Provider)] IPersistentState<ApiKeyState> state) : Grain, IApiKeyGrain
{
    public async Task IssueAsync(string organization, string role, DateTimeOffset issuedAt)
    {
        if (state.State.Key is not null) throw new InvalidOperationException("An API key is issued once.");
        state.State.Key = new ApiKeyView(organization, role, issuedAt);
        await state.WriteStateAsync();
    }

    public Task<ApiKeyView?> GetAsync() => Task.FromResult(state.State.Key);
}
