using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>One organisation's resources built over HTTP with its own credential: agents, funded subscribers, a vault.</summary>
public sealed class OrgWorld(HttpClient http)
{
    public HttpClient Http { get; } = http;

    public async Task<string> AgentAsync(string agentType = "PERPETUAL", object? agentFees = null, string? signer = null)
    {
        var agentId = Guid.NewGuid().ToString();
        await Http.PostAsync("/agent/register", new { agentId, name = "Agent", agentType, agentFees, signerAddress = signer }).OkAsync();
        return agentId;
    }

    public async Task<string> AccountAsync(string amount, string? subscribeTo = null)
    {
        var account = TestData.NewAddress();
        await Http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await Http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount }).OkAsync();
        if (subscribeTo is not null) await Http.PostAsync($"/api/v1/agents/{subscribeTo}/subscribers", new { smartAccount = account }).OkAsync();
        return account;
    }

    public static async Task PriceAsync(HttpClient oracle, string symbol, string price) =>
        await oracle.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = price } } }).OkAsync();

    public Task<JsonNode> BatchOpenAsync(string agentId, string symbol, decimal stopLoss = 0) => Http.PostAsync("/agent/batch-open", new
    {
        agentId, symbol, action = "LONG", weight = 100, leverage = 2, orderOptions = new { triggerPrice = 0, stopLossPrice = stopLoss, takeProfitPrice = 0 },
    }).OkAsync();
}
