using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Agents;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AgentTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    [Fact]
    public async Task Registration_is_validated_against_the_fee_caps_and_happens_once()
    {
        var agent = _world.Agent(Guid.NewGuid());
        var fee = TestData.NewAddress();
        AgentRegistration Registration(params AgentFee[] fees) => new("x", null, null, AgentType.Swap, true, fees, "Org", null, null, null);

        Assert.Equal(Domain.Common.Errors.InvalidFee, (await agent.RegisterAsync(Registration(new AgentFee("p", -1, fee, FeeType.Flat)))).Problem!.Code);
        Assert.Equal(Domain.Common.Errors.InvalidFee, (await agent.RegisterAsync(Registration(new AgentFee("p", 1, "0xabc", FeeType.Flat)))).Problem!.Code);
        var tooHigh = await agent.RegisterAsync(Registration(new AgentFee("p", 994, fee, FeeType.Flat)));
        Assert.Equal(Domain.Common.Errors.FeeTooHigh, tooHigh.Problem!.Code);
        Assert.Equal("10", tooHigh.Problem.Details!["maximum"]);
        Assert.Equal(Domain.Common.Errors.FeeTooHigh, (await agent.RegisterAsync(Registration(new AgentFee("p", 501, fee, FeeType.Bps)))).Problem!.Code);
        Assert.Null(await agent.GetProfileAsync());

        var ok = await agent.RegisterAsync(Registration(new AgentFee("p", 10, fee, FeeType.Flat)));
        Assert.Equal(AgentType.Swap, ok.Value!.AgentType);
        Assert.Equal("Evaluation", ok.Value.Track);
        Assert.StartsWith("q", ok.Value.QuorumId);
        Assert.Equal(Domain.Common.Errors.AgentAlreadyRegistered, (await agent.RegisterAsync(Registration())).Problem!.Code);
    }

    [Fact]
    public async Task Subscribers_spread_over_pages_and_subscribing_twice_counts_once()
    {
        var agent = await _world.AgentAsync();
        var accounts = new List<string>();
        for (var i = 0; i < ISubscriberPageGrain.Capacity + 10; i++) accounts.Add(await _world.AccountAsync(0m, agent));
        Assert.True((await _world.Agent(agent).SubscribeAsync(accounts[0])).IsSuccess);

        Assert.Equal(ISubscriberPageGrain.Capacity + 10, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
        Assert.Equal(2, await _world.Agent(agent).GetSubscriberPageCountAsync());
        Assert.Equal(accounts.Order(), (await SubscriberPages.ReadAllAsync(fixture.Client, agent)).Order());

        Assert.True((await _world.Agent(agent).UnsubscribeAsync(accounts[5])).IsSuccess);
        Assert.Equal(Domain.Common.Errors.NotSubscribed, (await _world.Agent(agent).UnsubscribeAsync(accounts[5])).Problem!.Code);
        Assert.Equal(ISubscriberPageGrain.Capacity + 9, (await _world.Agent(agent).GetProfileAsync())!.SubscriberCount);
        Assert.Equal(Domain.Common.Errors.AccountNotFound, (await _world.Agent(agent).SubscribeAsync(TestData.NewAddress())).Problem!.Code);
    }

    [Fact]
    public async Task An_agent_subscribes_only_accounts_of_its_own_organisation()
    {
        var agent = await _world.AgentAsync();
        var otherOrganisation = new Scenario(fixture.Client, "Other-" + Guid.NewGuid().ToString("N")[..6]);
        var theirs = await otherOrganisation.AccountAsync(1000m);
        // The same address in another organisation is another account: the agent's organisation has none.
        Assert.Equal(Domain.Common.Errors.AccountNotFound, (await _world.Agent(agent).SubscribeAsync(theirs)).Problem!.Code);
        Assert.Equal(1000m, (await otherOrganisation.Account(theirs).GetAsync())!.FreeUsdc);
        Assert.Empty((await otherOrganisation.Account(theirs).GetAsync())!.Subscriptions);
    }

    [Fact]
    public async Task Deposits_are_idempotent_bounded_and_validated()
    {
        var address = TestData.NewAddress();
        var account = _world.Account(address);
        Assert.Equal(Domain.Common.Errors.AccountNotFound, (await account.DepositAsync("d1", 10m)).Problem!.Code);
        await account.CreateAsync();
        Assert.Equal(10m, (await account.DepositAsync("d1", 10m)).Value!.FreeUsdc);
        Assert.Equal(10m, (await account.DepositAsync("d1", 10m)).Value!.FreeUsdc);
        var conflict = await account.DepositAsync("d1", 11m);
        Assert.Equal(Domain.Common.Errors.IdempotencyConflict, conflict.Problem!.Code);
        Assert.Equal(Domain.Common.Errors.InvalidAmount, (await account.DepositAsync("d2", -1m)).Problem!.Code);
        Assert.Equal(Domain.Common.Errors.InvalidAmount, (await account.DepositAsync("d3", 0.0000001m)).Problem!.Code);
        Assert.Equal(Domain.Common.Errors.AmountTooLarge, (await account.DepositAsync("d4", 79228162514264337593543950000m)).Problem!.Code);
        Assert.Equal(Domain.Common.Errors.AmountTooLarge, (await account.DepositAsync("d5", 1_000_000_001m)).Problem!.Code);
        Assert.Equal(10m, (await account.GetAsync())!.DepositedUsdc);
    }

    [Fact]
    public async Task Deposit_ids_are_remembered_oldest_first_so_a_recent_retry_never_credits_twice()
    {
        var address = TestData.NewAddress();
        var account = _world.Account(address);
        await account.CreateAsync();
        var capacity = Grains.Accounts.SubscriberGrain.RememberedDeposits;
        for (var i = 0; i <= capacity; i++) Assert.True((await account.DepositAsync($"d{i}", 1m)).IsSuccess);
        // The memory is full: the newest ids are remembered (a retry credits nothing)…
        for (var i = capacity - 10; i <= capacity; i++) await account.DepositAsync($"d{i}", 1m);
        Assert.Equal(capacity + 1m, (await account.GetAsync())!.DepositedUsdc);
        // …and only the very oldest was forgotten.
        await account.DepositAsync("d0", 1m);
        Assert.Equal(capacity + 2m, (await account.GetAsync())!.DepositedUsdc);
    }

    [Fact]
    public async Task Vault_allowlist_capital_and_binding()
    {
        var vault = _world.Vault("v-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(Domain.Common.Errors.InvalidAddress, (await vault.CreateAsync("0x123", "V", "Org", 0, adminSignature: null)).Problem!.Code);
        Assert.True((await vault.CreateAsync(TestData.NewAddress(), "V", "Org", 15_000m, adminSignature: null)).IsSuccess);
        Assert.Equal(Domain.Common.Errors.InvalidDecimals, (await vault.SetTokenAsync("NVDA", TestData.NewAddress(), 40)).Problem!.Code);
        var nvda = TestData.NewAddress();
        var view = (await vault.SetTokenAsync("nvda", nvda, 18)).Value!;
        Assert.Equal("NVDA", view.Tokens.Single().Symbol);
        // One address, one symbol: the relayer can not pick another feed for a signed token.
        Assert.Equal(Domain.Common.Errors.TokenAlreadyListed, (await vault.SetTokenAsync("NVDX", nvda.ToUpperInvariant().Replace("0X", "0x"), 18)).Problem!.Code);

        var agent = await _world.AgentAsync();
        var other = await _world.AgentAsync();
        Assert.Equal(10_000m, (await _world.Agent(agent).BindVaultAsync(view.VaultId, 10_000m)).Value!.AllocationUsdc);
        Assert.Equal(10_000m, (await vault.GetAsync())!.Allocations[agent]);
        var over = await _world.Agent(other).BindVaultAsync(view.VaultId, 5_001m);
        Assert.Equal(Domain.Common.Errors.AllocationExceedsCapital, over.Problem!.Code);
        Assert.Equal("5000", over.Problem.Details!["availableUsdc"]);
        Assert.True((await _world.Agent(other).BindVaultAsync(view.VaultId, 5_000m)).IsSuccess);
        Assert.Equal(Domain.Common.Errors.AllocationExceedsCapital, (await vault.SetCapitalAsync(14_999m)).Problem!.Code);

        Assert.Equal(Domain.Common.Errors.VaultNotFound, (await _world.Agent(agent).BindVaultAsync("missing-vault", 1m)).Problem!.Code);
        Assert.Equal(Domain.Common.Errors.UnknownTrack, (await _world.Agent(agent).SetTrackAsync("Platinum")).Problem!.Code);
        Assert.Equal("Funded", (await _world.Agent(agent).SetTrackAsync("funded")).Value!.Track);
    }
}
