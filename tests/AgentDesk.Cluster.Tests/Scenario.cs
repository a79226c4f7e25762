using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Contracts.Vaults;

namespace AgentDesk.Cluster.Tests;

/// <summary>Builds test worlds through the grain contracts, with fresh keys every time.</summary>
public sealed class Scenario(IGrainFactory grains)
{
    public IGrainFactory Grains { get; } = grains;

    /// <summary>A symbol no other test uses, so price ticks never cross tests.</summary>
    public string Symbol { get; } = "T" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();

    public static string NewAddress() => "0x" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..8];

    public async Task<Guid> AgentAsync(string agentType = "PERPETUAL", IReadOnlyList<AgentFeeMessage>? fees = null, string? signer = null)
    {
        var id = Guid.NewGuid();
        var registered = await Agent(id).RegisterAsync(new AgentRegistration("Test agent", null, null, agentType, true, fees ?? [], "Symphony", signer, null, null));
        Assert.True(registered.IsSuccess, registered.Problem?.Message);
        return id;
    }

    public async Task<string> AccountAsync(decimal deposit, Guid? subscribeTo = null)
    {
        var address = NewAddress();
        var account = Account(address);
        await account.CreateAsync();
        if (deposit > 0) Assert.True((await account.DepositAsync(Guid.NewGuid().ToString(), deposit)).IsSuccess);
        if (subscribeTo is { } agent) Assert.True((await Agent(agent).SubscribeAsync(address)).IsSuccess);
        return address;
    }

    public Task PriceAsync(decimal price) => Grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(Symbol)).PushAsync(price, DateTimeOffset.UtcNow);

    public async Task<BatchResult> BatchOpenAsync(Guid agent, decimal weight = 50, decimal leverage = 2, TradeSide side = TradeSide.Long,
        decimal trigger = 0, decimal stopLoss = 0, decimal takeProfit = 0, decimal trailing = 0, Guid? batchId = null)
    {
        var result = await Grains.GetGrain<IBatchGrain>(batchId ?? Guid.NewGuid())
            .OpenAsync(new BatchOpenRequest(agent, Symbol, side, weight, leverage, trigger, stopLoss, takeProfit, trailing));
        Assert.True(result.IsSuccess, result.Problem?.Message);
        return result.Value!;
    }

    public IAgentGrain Agent(Guid id) => Grains.GetGrain<IAgentGrain>(id);
    public ISubscriberGrain Account(string address) => Grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(address));
    public IPositionGrain Position(Guid agent, string account) => Grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent, account, Symbol));
    public IVaultGrain Vault(string id) => Grains.GetGrain<IVaultGrain>(GrainKeys.Vault(id));
}

public static class Eventually
{
    /// <summary>Waits for a condition with a deadline instead of sleeping a fixed time.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what ?? "a condition"}; last value: {value}");
            await Task.Delay(20);
        }
    }
}
