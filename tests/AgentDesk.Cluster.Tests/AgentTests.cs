using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;

namespace AgentDesk.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AgentTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    [Fact]
    public async Task Registration_is_validated_and_happens_once()
    {
        var id = Guid.NewGuid();
        var agent = _world.Agent(id);
        var bad = await agent.RegisterAsync(new AgentRegistration("x", null, null, "FUTURES", false, [], "Org", null, null, null));
        Assert.Equal("invalid_agent_type", bad.Problem!.Code);
        var badFee = await agent.RegisterAsync(new AgentRegistration("x", null, null, "SWAP", false, [new AgentFeeMessage("p", -1, "0xabc", "FLAT")], "Org", null, null, null));
        Assert.Equal("invalid_fee", badFee.Problem!.Code);
        Assert.Null(await agent.GetProfileAsync());

        var ok = await agent.RegisterAsync(new AgentRegistration("x", null, null, "SWAP", true, [], "Org", null, null, null));
        Assert.Equal("SWAP", ok.Value!.AgentType);
        Assert.Equal("Evaluation", ok.Value.Track);
        Assert.StartsWith("q", ok.Value.QuorumId);
        Assert.Equal("agent_already_registered", (await agent.RegisterAsync(new AgentRegistration("y", null, null, "SWAP", true, [], "Org", null, null, null))).Problem!.Code);
    }

    [Fact]
    public async Task Subscribers_spread_over_pages_and_subscribing_twice_counts_once()
    {
        var agent = await _world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < ISubscriberPageGrain.Capacity + 10; i++) accounts.Add(await _world.AccountAsync(0m, agent));
        Assert.True((await _world.Agent(agent).SubscribeAsync(accounts[0])).IsSuccess);

        Assert.Equal(ISubscriberPageGrain.Capacity + 10, await _world.Agent(agent).GetSubscriberCountAsync());
        Assert.Equal(2, await _world.Agent(agent).GetSubscriberPageCountAsync());
        var listed = new List<string>();
        for (var p = 0; p < 2; p++) listed.AddRange(await fixture.Client.GetGrain<ISubscriberPageGrain>(GrainKeys.SubscriberPage(agent, p)).GetAccountsAsync());
        Assert.Equal(accounts.Order(), listed.Order());

        Assert.True((await _world.Agent(agent).UnsubscribeAsync(accounts[5])).IsSuccess);
        Assert.Equal("not_subscribed", (await _world.Agent(agent).UnsubscribeAsync(accounts[5])).Problem!.Code);
        Assert.Equal(ISubscriberPageGrain.Capacity + 9, await _world.Agent(agent).GetSubscriberCountAsync());
        Assert.Equal("account_not_found", (await _world.Agent(agent).SubscribeAsync(Scenario.NewAddress())).Problem!.Code);
    }

    [Fact]
    public async Task Deposits_are_idempotent_and_validated()
    {
        var address = Scenario.NewAddress();
        var account = _world.Account(address);
        Assert.Equal("account_not_found", (await account.DepositAsync("d1", 10m)).Problem!.Code);
        await account.CreateAsync();
        Assert.Equal(10m, (await account.DepositAsync("d1", 10m)).Value!.FreeUsdc);
        Assert.Equal(10m, (await account.DepositAsync("d1", 10m)).Value!.FreeUsdc);
        Assert.Equal("invalid_amount", (await account.DepositAsync("d2", -1m)).Problem!.Code);
        Assert.Equal("invalid_amount", (await account.DepositAsync("d3", 0.0000001m)).Problem!.Code);
        Assert.Equal(10m, (await account.GetAsync())!.DepositedUsdc);
    }

    [Fact]
    public async Task Vault_allowlist_and_binding()
    {
        var vault = _world.Vault("v-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal("invalid_address", (await vault.CreateAsync("0x123", "V", "Org")).Problem!.Code);
        Assert.True((await vault.CreateAsync(Scenario.NewAddress(), "V", "Org")).IsSuccess);
        Assert.Equal("invalid_decimals", (await vault.SetTokenAsync("NVDA", Scenario.NewAddress(), 40)).Problem!.Code);
        var view = (await vault.SetTokenAsync("nvda", Scenario.NewAddress(), 18)).Value!;
        Assert.Equal("NVDA", view.Tokens.Single().Symbol);

        var agent = await _world.AgentAsync();
        var bound = await _world.Agent(agent).BindVaultAsync(view.VaultId, 10_000m);
        Assert.Equal(10_000m, bound.Value!.AllocationUsdc);
        Assert.Equal(10_000m, (await vault.GetAsync())!.Allocations[agent]);
        Assert.Equal("vault_not_found", (await _world.Agent(agent).BindVaultAsync("missing-vault", 1m)).Problem!.Code);
        Assert.Equal("unknown_track", (await _world.Agent(agent).SetTrackAsync("Platinum")).Problem!.Code);
        Assert.Equal("Funded", (await _world.Agent(agent).SetTrackAsync("funded")).Value!.Track);
    }
}
