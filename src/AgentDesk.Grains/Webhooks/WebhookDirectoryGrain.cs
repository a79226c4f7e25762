using AgentDesk.Contracts.Webhooks;
using AgentDesk.Grains.Infrastructure;

namespace AgentDesk.Grains.Webhooks;

public sealed class WebhookDirectoryState
{
    public List<Guid> Webhooks { get; set; } = [];
}

/// <summary>The webhooks of one organisation, in registration order, at most <see cref="IWebhookDirectoryGrain.MaxWebhooks"/>.</summary>
[GrainType("webhook-directory")]
public sealed class WebhookDirectoryGrain(
    [PersistentState(StorageNames.WebhookDirectory, StorageNames.Provider)] IPersistentState<WebhookDirectoryState> state) : Grain, IWebhookDirectoryGrain
{
    private List<Guid> Webhooks => state.State.Webhooks;

    public async Task<bool> AddAsync(Guid webhookId)
    {
        if (Webhooks.Contains(webhookId)) return true;
        if (Webhooks.Count >= IWebhookDirectoryGrain.MaxWebhooks) return false;
        Webhooks.Add(webhookId);
        await state.WriteStateAsync();
        return true;
    }

    public async Task RemoveAsync(Guid webhookId)
    {
        if (Webhooks.Remove(webhookId)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<Guid>> ListAsync() => Task.FromResult<IReadOnlyList<Guid>>(Webhooks.ToArray());
}
