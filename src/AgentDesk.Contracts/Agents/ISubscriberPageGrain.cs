using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Agents;

/// <summary>One page of an agent's subscriber list (key <c>subs:{agentId}:{page}</c>), at most <see cref="Capacity"/> accounts.</summary>
[Alias("agentdesk.subscriber-page")]
public interface ISubscriberPageGrain : IGrainWithStringKey
{
    public const int Capacity = 256;

    [Alias("add")]
    Task AddAsync(string account);

    [Alias("remove")]
    Task RemoveAsync(string account);

    [Alias("accounts")]
    Task<IReadOnlyList<string>> GetAccountsAsync();
}

/// <summary>Reads an agent's whole subscriber list from its pages (used by the batch fan-out and the gateway).</summary>
public static class SubscriberPages
{
    public static async Task<IReadOnlyList<string>> ReadAllAsync(IGrainFactory grains, Guid agentId)
    {
        var pages = await grains.GetGrain<IAgentGrain>(agentId).GetSubscriberPageCountAsync();
        var lists = await Task.WhenAll(Enumerable.Range(0, pages)
            .Select(p => grains.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(agentId, p)).GetAccountsAsync()));
        return lists.SelectMany(l => l).ToList();
    }
}
