namespace AgentDesk.Contracts.Prices;

/// <summary>Every symbol that has ever had a price (one grain, key <see cref="Common.GrainKeys.PriceDirectory"/>), for <c>GET /prices</c>.</summary>
[Alias("agentdesk.price-directory")]
public interface IPriceDirectoryGrain : IGrainWithStringKey
{
    [Alias("add")]
    Task AddAsync(string symbol);

    [Orleans.Concurrency.ReadOnly, Alias("symbols")]
    Task<string[]> GetSymbolsAsync();
}
