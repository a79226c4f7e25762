using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Domain.Events;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Options;
using AgentDesk.Silo.Configuration;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Events;

/// <summary>A store that can be made to fail before storing (the database is down) or after (the answer is lost).</summary>
public sealed class FlakyEventStore : IEventStore
{
    private readonly MemoryEventStore _inner = new();

    public enum Failure { None, BeforeStoring, AfterStoring }

    public Failure Mode { get; set; }
    private int _failedAppends;

    public int FailedAppends => Volatile.Read(ref _failedAppends);

    public Task<long> LastIdAsync(string organization) => _inner.LastIdAsync(organization);

    public async Task<IReadOnlyList<EventRecord>> AppendAsync(string organization, IReadOnlyList<EventRecord> events)
    {
        if (Mode == Failure.BeforeStoring) throw Fail();
        var stored = await _inner.AppendAsync(organization, events);
        if (Mode == Failure.AfterStoring) throw Fail();
        return stored;
    }

    public Task<IReadOnlyList<EventRecord>> ReadAsync(string organization, long afterId, int max) => _inner.ReadAsync(organization, afterId, max);

    public Task<int> PruneAsync(DateTimeOffset before) => _inner.PruneAsync(before);

    private TimeoutException Fail()
    {
        Interlocked.Increment(ref _failedAppends);
        return new TimeoutException("The event store did not answer (test).");
    }
}

/// <summary>A cluster of its own whose event store fails on demand, and whose outboxes re-send after a second.</summary>
public sealed class FlakyStoreFixture : IAsyncLifetime
{
    public FlakyEventStore Store { get; } = new();
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = ClusterMode.Memory });
            silo.Services.Configure<PriceOptions>(o => o.MaxJumpBps = 1_000_000);
            silo.Services.Configure<RetryOptions>(o => o.ResendSeconds = 1);
            silo.Services.AddSingleton<IEventStore>(Store);
        });
        builder.ConfigureClient(client => client.Services.AddAgentDeskSerialization());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Events survive a store that fails: the grains that caused them keep them and send them again, and none is stored twice.</summary>
public sealed class EventOutboxTests(FlakyStoreFixture fixture) : IClassFixture<FlakyStoreFixture>
{
    [Theory]
    [InlineData(FlakyEventStore.Failure.BeforeStoring)]
    [InlineData(FlakyEventStore.Failure.AfterStoring)]
    public async Task Events_the_store_failed_to_confirm_are_sent_again_and_stored_exactly_once(FlakyEventStore.Failure failure)
    {
        var world = new Scenario(fixture.Client, TestData.NewOrganization("Flaky"));
        var agent = await world.AgentAsync();
        for (var i = 0; i < 4; i++) await world.AccountAsync(100m, agent);
        await world.PriceAsync(100m);

        var failedBefore = fixture.Store.FailedAppends;
        fixture.Store.Mode = failure;
        try
        {
            await world.BatchOpenAsync(agent, stopLoss: 90m);
            await world.PriceAsync(89m);
            await Eventually.WaitForAsync(() => Task.FromResult(fixture.Store.FailedAppends), n => n > failedBefore + 2, what: "appends to fail");
        }
        finally
        {
            fixture.Store.Mode = FlakyEventStore.Failure.None;
        }

        var events = await EventLogReader.WaitForAsync(fixture.Client, world.Organization, e => e.Count(EventTypes.PositionSettled) == 4
            && e.Count(EventTypes.PositionExited) == 4 && e.Count(EventTypes.PositionFilled) == 4 && e.Count(EventTypes.BatchCompleted) == 1,
            "every event once the store recovers", TimeSpan.FromSeconds(30));
        Assert.Equal(events.Count, events.Select(e => e.SourceKey).Distinct().Count());
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        // Each position's own events keep their order: its fill before its exit.
        foreach (var position in events.Where(e => e.Type == EventTypes.PositionExited))
            Assert.True(events.Single(e => e.Type == EventTypes.PositionFilled && e.Account == position.Account).Id < position.Id);
    }
}
