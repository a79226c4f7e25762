using AgentDesk.Contracts.Common;
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
        if (Webhooks.Count >= IWebhookDirectoryGrain.MaxWebhooks) await ForgetStrandedAsync();
        if (Webhooks.Count >= IWebhookDirectoryGrain.MaxWebhooks) return false;
        Webhooks.Add(webhookId);
        await state.WriteStateAsync();
        return true;
    }

    /// <summary>
    /// At the limit, entries left by registrations cut off part-way (listed, but no webhook behind them) stop counting. A
    /// registration still under way may be among them: its endpoint lists it again once it is created.
    /// </summary>
    private async Task ForgetStrandedAsync()
    {
        var organization = GrainKeys.After(this.GetPrimaryKeyString(), "webhooks:");
        var views = await Task.WhenAll(Webhooks.Select(id => GrainFactory.GetGrain<IWebhookGrain>(GrainKeys.Webhook(organization, id)).GetAsync()));
        var stranded = Webhooks.Where((_, i) => views[i] is null).ToHashSet();
        if (stranded.Count == 0) return;
        Webhooks.RemoveAll(stranded.Contains);
        await state.WriteStateAsync();
    }

    public async Task RemoveAsync(Guid webhookId)
    {
        if (Webhooks.Remove(webhookId)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<Guid>> ListAsync() => Task.FromResult<IReadOnlyList<Guid>>(Webhooks.ToArray());
}
