using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Batches;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
namespace AgentDesk.Testing;

/// <summary>Builds test worlds through the grain contracts, with fresh keys every time, in one organisation.</summary>
public sealed class Scenario(IGrainFactory grains, string organization = "Symphony")
{
    public IGrainFactory Grains { get; } = grains;
    public string Organization { get; } = organization;

    /// <summary>A symbol no other test uses, so price ticks never cross tests.</summary>
    public string Symbol { get; } = TestData.NewSymbol();

    public async Task<Guid> AgentAsync(AgentType agentType = AgentType.Perpetual, IReadOnlyList<AgentFee>? fees = null, string? signer = null)
    {
        var id = Guid.NewGuid();
        var registered = await Agent(id).RegisterAsync(new AgentRegistration("Test agent", null, null, agentType, true, fees ?? [], Organization, signer, null, null));
        Assert.True(registered.IsSuccess, registered.Problem?.Message);
        return id;
    }

    public async Task<string> AccountAsync(decimal deposit, Guid? subscribeTo = null)
    {
        var address = TestData.NewAddress();
        var account = Account(address);
        await account.CreateAsync();
        if (deposit > 0) Assert.True((await account.DepositAsync(Guid.NewGuid().ToString(), deposit)).IsSuccess);
        if (subscribeTo is { } agent) Assert.True((await Agent(agent).SubscribeAsync(address)).IsSuccess);
        return address;
    }

    /// <summary>Pushes a price and returns the accepted tick's sequence (what a position's LastTickSequence reaches once it evaluated it).</summary>
    public async Task<long> PriceAsync(decimal price)
    {
        var pushed = await Grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(Symbol)).PushAsync(price, DateTimeOffset.UtcNow);
        Assert.True(pushed.IsSuccess, pushed.Problem?.Message);
        return pushed.Value!.Latest!.Sequence;
    }

    /// <summary>Closes what the batch-open <paramref name="openBatch"/> opened, under a new batch id.</summary>
    public async Task<BatchResult> BatchCloseAsync(Guid agent, Guid openBatch)
    {
        var result = await Grains.GetGrain<IBatchGrain>(Guid.NewGuid()).CloseAsync(new BatchCloseRequest(agent, openBatch));
        Assert.True(result.IsSuccess, result.Problem?.Message);
        return result.Value!;
    }

    public async Task<BatchResult> BatchOpenAsync(Guid agent, decimal weight = 50, decimal leverage = 2, Side side = Side.Long,
        decimal trigger = 0, decimal stopLoss = 0, decimal takeProfit = 0, decimal trailing = 0, Guid? batchId = null)
    {
        var result = await Grains.GetGrain<IBatchGrain>(batchId ?? Guid.NewGuid())
            .OpenAsync(new BatchOpenRequest(agent, Symbol, side, weight, leverage, trigger, stopLoss, takeProfit, trailing));
        Assert.True(result.IsSuccess, result.Problem?.Message);
        return result.Value!;
    }

    /// <summary>A vault of this organisation with <paramref name="capital"/> and one 18-decimal token, the scenario's symbol.</summary>
    public async Task<VaultView> VaultAsync(decimal capital = 1_000_000m)
    {
        var vault = Vault("v-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.True((await vault.CreateAsync(TestData.NewAddress(), "Vault", Organization, capital, adminSignature: null)).IsSuccess);
        var listed = await vault.SetTokenAsync(Symbol, TestData.NewAddress(), 18);
        Assert.True(listed.IsSuccess, listed.Problem?.Message);
        return listed.Value!;
    }

    public IAgentGrain Agent(Guid id) => Grains.GetGrain<IAgentGrain>(id);
    public ISubscriberGrain Account(string address) => Grains.GetGrain<ISubscriberGrain>(GrainKeys.Account(Organization, address));
    public IPositionGrain Position(Guid agent, string account) => Grains.GetGrain<IPositionGrain>(GrainKeys.Position(agent, account, Symbol));
    public IVaultGrain Vault(string id) => Grains.GetGrain<IVaultGrain>(GrainKeys.Vault(id));

    /// <summary>Waits until the position has evaluated the tick with <paramref name="sequence"/> (or a later one).</summary>
    public Task<PositionSnapshot?> EvaluatedAsync(Guid agent, string account, long sequence) =>
        Eventually.WaitForAsync(() => Position(agent, account).GetAsync(), p => p!.LastTickSequence >= sequence, what: $"the position to evaluate tick {sequence}");

    /// <summary>An open position command as a batch step would send it.</summary>
    public OpenPositionCommand Open(string openId, string account, decimal collateral, decimal price, IReadOnlyList<Domain.Exits.ExitRule>? exits = null) =>
        new(openId, null, Organization, GrainKeys.Account(Organization, account), Side.Long, collateral, [], 1m, price, 8, null, 0, 0, 0, 0,
            exits ?? [], 0, 10_000, null);
}
