using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Positions;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Exits;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Prices;
using AgentDesk.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.Streams;

namespace AgentDesk.Cluster.Tests;

/// <summary>Exits driven end to end by price ticks: feed → exit index → position → venue → account.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ExitTests(ClusterFixture fixture)
{
    private readonly Scenario _world = new(fixture.Client);

    private Task<PositionSnapshot?> WaitForStatus(Guid agent, string account, PositionStatus status) =>
        Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => p?.Status == status, what: $"position {status}");

    /// <summary>A fresh agent's subscriber with 100 USDC, holding one position opened at 100 with its stop at 90.</summary>
    private async Task<(Guid Agent, string Account)> OpenWithStopAt90Async()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2, stopLoss: 90m);
        return (agent, account);
    }

    /// <summary>The exit-index page that holds the position's envelope.</summary>
    private IExitWatchGrain IndexPageOf(string positionKey) =>
        fixture.Client.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(_world.Symbol, Grains.Prices.ExitIndex.PageOf(positionKey)));

    [Fact]
    public async Task A_stop_loss_price_closes_the_position_and_pays_the_account()
    {
        var (agent, account) = await OpenWithStopAt90Async();

        // At 90.01 the stop is one tick away: the exit index hands the position every tick at or below 90 only, so a
        // tick at exactly 90 must reach it and close it, while 90.01 must not.
        await _world.PriceAsync(90.01m);
        var closing = await _world.PriceAsync(90m);
        var closed = await _world.EvaluatedAsync(agent, account, closing);
        Assert.Equal(PositionStatus.Closed, closed!.Status);
        Assert.Equal("stop_loss", closed.CloseReason);
        Assert.Equal(90m * 0.9995m, closed.ExitPrice); // sold on the tick at 90 (less paper slippage), not at 90.01
        Assert.Single(closed.Exits);
        Assert.True(closed.RealizedPnlUsdc < -20m);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m, what: "settlement");
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
        Assert.Empty(view.OpenPositionKeys);
    }

    [Fact]
    public async Task Two_take_profit_steps_then_a_stop_loss_sell_shares_of_what_remains()
    {
        var agent = await _world.AgentAsync();
        var account = TestData.NewAddress();
        await _world.PriceAsync(100m);
        var opened = await _world.Position(agent, account).OpenAsync(_world.Open("t1", account, 100m, 100m,
        [
            new ExitRule(ExitTriggerType.TakeProfit, 500, 5000),
            new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000),
            new ExitRule(ExitTriggerType.StopLoss, -500, 10_000),
        ]));
        Assert.True(opened.IsSuccess, opened.Problem?.Message);
        var size = opened.Value!.Size;

        await _world.PriceAsync(106m);
        var afterFirst = await Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => p!.Exits.Count == 1, what: "first take-profit");
        Assert.Equal(size - Math.Round(size / 2, 8, MidpointRounding.ToZero), afterFirst!.Size);
        Assert.Equal(2, afterFirst.PendingExits.Count);

        await _world.PriceAsync(111m);
        var afterSecond = await Eventually.WaitForAsync(() => _world.Position(agent, account).GetAsync(), p => p!.Exits.Count == 2, what: "second take-profit");
        Assert.Equal("ladder_take_profit", afterSecond!.Exits[1].Reason);

        await _world.PriceAsync(94m);
        var closed = await WaitForStatus(agent, account, PositionStatus.Closed);
        Assert.Equal(["ladder_take_profit", "ladder_take_profit", "ladder_stop_loss"], closed!.Exits.Select(e => e.Reason));
        Assert.Equal(size, closed.Exits.Sum(e => e.Size));
    }

    [Fact]
    public async Task A_trailing_stop_follows_the_peak_and_fires_on_the_drop()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        await _world.BatchOpenAsync(agent, weight: 100, leverage: 2, trailing: 10m);

        var peak = await _world.PriceAsync(130m);
        var peaked = await _world.EvaluatedAsync(agent, account, peak);
        Assert.Equal(130m, peaked!.ExtremePrice);
        Assert.Equal(PositionStatus.Open, peaked.Status);

        // 118 is above 130 × 0.9 = 117: the stop must hold. The next peak reaches the position for certain; once it has
        // evaluated that later tick, the position must still be open (a stop fired too early at 118 would have closed it).
        await _world.PriceAsync(118m);
        await _world.PriceAsync(117.01m);
        var higher = await _world.PriceAsync(131m);
        var held = await _world.EvaluatedAsync(agent, account, higher);
        Assert.Equal(PositionStatus.Open, held!.Status);
        Assert.Equal(131m, held.ExtremePrice);

        var drop = await _world.PriceAsync(117.8m); // below 131 × 0.9 = 117.9
        var closed = await _world.EvaluatedAsync(agent, account, drop);
        Assert.Equal(PositionStatus.Closed, closed!.Status);
        Assert.Equal("trailing_stop", closed.CloseReason);
        Assert.Equal(117.8m * 0.9995m, closed.ExitPrice); // the drop's price, less paper slippage
        Assert.True(closed.RealizedPnlUsdc > 0m);
    }

    [Fact]
    public async Task A_trigger_order_fills_when_the_price_reaches_it_from_its_side()
    {
        var agent = await _world.AgentAsync();
        var account = await _world.AccountAsync(100m, agent);
        await _world.PriceAsync(100m);
        var batch = await _world.BatchOpenAsync(agent, weight: 50, leverage: 2, trigger: 90m);
        Assert.True(batch.Results.Single().IsOrder);
        Assert.Equal(PositionStatus.Pending, (await _world.Position(agent, account).GetAsync())!.Status);
        Assert.Equal(50m, (await _world.Account(account).GetAsync())!.LockedUsdc);

        await _world.PriceAsync(95m);
        var reaching = await _world.PriceAsync(89.5m);
        var open = await _world.EvaluatedAsync(agent, account, reaching);
        Assert.Equal(PositionStatus.Open, open!.Status);
        Assert.InRange(open!.EntryPrice, 89.5m, 89.6m); // filled at the tick's price plus paper slippage
    }

    [Fact]
    public async Task A_position_keeps_being_evaluated_after_its_grains_are_deactivated()
    {
        // Positions are deactivated after five idle minutes, as the silo's grain manifest declares to the runtime: between
        // open and exit only the exit index holds them.
        var manifest = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Orleans.Runtime.IClusterManifestProvider>().LocalGrainManifest;
        var idle = manifest.Grains[GrainType.Create("position")].Properties[Orleans.Metadata.WellKnownGrainTypeProperties.IdleDeactivationPeriod];
        Assert.Equal(TimeSpan.FromMinutes(5), TimeSpan.Parse(idle, System.Globalization.CultureInfo.InvariantCulture));

        var (agent, account) = await OpenWithStopAt90Async();

        var position = _world.Position(agent, account);
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        var watch = IndexPageOf(key);
        var feed = fixture.Client.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(_world.Symbol));
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.DeactivateAsync(watch);
        await fixture.Cluster.DeactivateAsync(feed);
        await fixture.Cluster.WaitForDeactivationAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(watch);

        await _world.PriceAsync(85m);
        var closed = await WaitForStatus(agent, account, PositionStatus.Closed);
        Assert.Equal("stop_loss", closed!.CloseReason);
        var view = await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), v => v!.LockedUsdc == 0m && v.OpenPositionKeys.Count == 0, what: "settlement");
        Assert.Equal(100m + closed.RealizedPnlUsdc, view!.FreeUsdc);
    }

    [Fact]
    public async Task A_watch_the_index_lost_is_restored_soon_after_the_position_is_next_activated()
    {
        var (agent, account) = await OpenWithStopAt90Async();
        var position = _world.Position(agent, account);
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(position);

        // The index forgets the position (as a crash between its write and its watch would leave it): a stop crossed
        // now reaches nothing.
        await IndexPageOf(key).UnwatchAsync(key);
        await _world.PriceAsync(85m);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(PositionStatus.Open, (await position.GetAsync())!.Status);

        // The read above activated the position; it confirms its envelope with the index a moment later.
        var closed = await Eventually.WaitForAsync(async () =>
        {
            await _world.PriceAsync(84m);
            return await position.GetAsync();
        }, p => p!.Status == PositionStatus.Closed, TimeSpan.FromSeconds(15), "the restored watch to let a tick reach the stop");
        Assert.Equal("stop_loss", closed!.CloseReason);
    }

    private IGrainStorage Storage => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Provider);

    /// <summary>The stored row of one part of an exit-index page, with its version.</summary>
    private async Task<GrainState<ExitWatchPart>> StoredPartAsync(IExitWatchGrain page, int part)
    {
        var stored = new GrainState<ExitWatchPart>(new ExitWatchPart());
        await Storage.ReadStateAsync(StorageNames.ExitWatchPart(part), page.GetGrainId(), stored);
        return stored;
    }

    [Fact]
    public void A_position_keys_page_and_part_never_change()
    {
        // Stored envelopes stay in the part they were written to: a different hash, page count or part count would leave
        // every stored envelope where an unwatch no longer looks, so changing them needs a migration of the stored index.
        const string key = "pos:6f1c2a4e-0000-4000-8000-000000000001:0x00000000000000000000000000000000000000aa:NVDA";
        Assert.Equal(key, GrainKeys.Position(Guid.Parse("6f1c2a4e-0000-4000-8000-000000000001"), "0x00000000000000000000000000000000000000AA", "nvda"));
        Assert.Equal(157, ExitIndex.PageOf(key));
        Assert.Equal(2, ExitIndex.PartOf(key));
        Assert.Equal("exitWatchPart2", StorageNames.ExitWatchPart(2));
    }

    [Fact]
    public async Task A_page_stored_in_its_own_row_before_parts_moves_its_envelopes_into_its_parts_and_ticks_still_reach_them()
    {
        var (agent, account) = await OpenWithStopAt90Async();
        var position = _world.Position(agent, account);
        var key = GrainKeys.Position(agent, account, _world.Symbol);
        var page = IndexPageOf(key);
        var partName = StorageNames.ExitWatchPart(ExitIndex.PartOf(key));
        await fixture.Cluster.DeactivateAsync(position);
        await fixture.Cluster.DeactivateAsync(page);
        await fixture.Cluster.WaitForDeactivationAsync(position);
        await fixture.Cluster.WaitForDeactivationAsync(page);

        // Store the page as a silo of the release before parts would have left it: the envelope in the page's own row,
        // and the part holding an older, wider band for the same position (a move into parts that an old silo's later
        // write overtook), which a tick at 85 would not reach.
        var part = await StoredPartAsync(page, ExitIndex.PartOf(key));
        var envelope = part.State!.Positions[key];
        Assert.Equal(new WatchEnvelope(90m, null), envelope with { Upper = null });
        part.State.Positions[key] = envelope with { Lower = 50m };
        await Storage.WriteStateAsync(partName, page.GetGrainId(), part);
        var own = new GrainState<ExitWatchState>(new ExitWatchState());
        await Storage.ReadStateAsync(StorageNames.ExitWatch, page.GetGrainId(), own);
        Assert.Empty(own.State!.Positions);
        own.State.Positions[key] = envelope;
        await Storage.WriteStateAsync(StorageNames.ExitWatch, page.GetGrainId(), own);
        // A redelivered tick could have activated the page while its rows were being changed: it starts from them now.
        await fixture.Cluster.DeactivateAsync(page);
        await fixture.Cluster.WaitForDeactivationAsync(page);

        // A tick that reaches nobody activates the page, which moves the envelope into its part and empties its own row.
        await _world.PriceAsync(95m);
        await Eventually.WaitForAsync(async () =>
        {
            await Storage.ReadStateAsync(StorageNames.ExitWatch, page.GetGrainId(), own);
            return own.State!.Positions.Count;
        }, count => count == 0, TimeSpan.FromSeconds(15), "the page's own row emptied");
        Assert.Equal(envelope, (await StoredPartAsync(page, ExitIndex.PartOf(key))).State!.Positions[key]);

        // Only the stored page can reach the position: the account is watched, never the position, whose activation would
        // register it again.
        await _world.PriceAsync(85m);
        await Eventually.WaitForAsync(() => _world.Account(account).GetAsync(), a => a!.LockedUsdc == 0m, TimeSpan.FromSeconds(15), "stop-loss settled");
        Assert.Equal("stop_loss", (await position.GetAsync())!.CloseReason);
    }

    [Fact]
    public async Task An_exit_rewrites_only_the_part_of_its_page_that_held_its_envelope()
    {
        var agent = await _world.AgentAsync();
        string KeyOf(string address) => GrainKeys.Position(agent, address, _world.Symbol);
        var exiting = TestData.NewAddress();
        var staying = Enumerable.Range(0, 100_000).Select(_ => TestData.NewAddress())
            .First(a => ExitIndex.PageOf(KeyOf(a)) == ExitIndex.PageOf(KeyOf(exiting)) && ExitIndex.PartOf(KeyOf(a)) != ExitIndex.PartOf(KeyOf(exiting)));
        await _world.PriceAsync(100m);
        foreach (var (address, stopBps) in new[] { (exiting, -1000), (staying, -2000) })
        {
            var opened = await _world.Position(agent, address).OpenAsync(_world.Open("o1", address, 100m, 100m, [new ExitRule(ExitTriggerType.StopLoss, stopBps, 10_000)]));
            Assert.True(opened.IsSuccess, opened.Problem?.Message);
        }
        var page = IndexPageOf(KeyOf(exiting));
        var stayingBefore = await StoredPartAsync(page, ExitIndex.PartOf(KeyOf(staying)));
        var exitingBefore = await StoredPartAsync(page, ExitIndex.PartOf(KeyOf(exiting)));
        Assert.Contains(KeyOf(staying), stayingBefore.State!.Positions.Keys);
        Assert.Contains(KeyOf(exiting), exitingBefore.State!.Positions.Keys);

        await _world.PriceAsync(85m); // the stop at 90 fires, the one at 80 does not
        await WaitForStatus(agent, exiting, PositionStatus.Closed);
        var exitingAfter = await Eventually.WaitForAsync(() => StoredPartAsync(page, ExitIndex.PartOf(KeyOf(exiting))),
            p => !p.State!.Positions.ContainsKey(KeyOf(exiting)), TimeSpan.FromSeconds(10), "the unwatch stored");
        Assert.NotEqual(exitingBefore.ETag, exitingAfter!.ETag);
        var stayingAfter = await StoredPartAsync(page, ExitIndex.PartOf(KeyOf(staying)));
        Assert.Equal(stayingBefore.ETag, stayingAfter.ETag);
        Assert.Equal(PositionStatus.Open, (await _world.Position(agent, staying).GetAsync())!.Status);
    }

    [Fact]
    public async Task Every_tick_is_published_on_the_symbols_stream()
    {
        var received = new List<decimal>();
        var stream = fixture.Client.GetStreamProvider(IPriceFeedGrain.StreamProvider)
            .GetStream<PriceTick>(StreamId.Create(IPriceFeedGrain.StreamNamespace, _world.Symbol));
        var handle = await stream.SubscribeAsync((tick, _) =>
        {
            lock (received) received.Add(tick.PriceUsd);
            return Task.CompletedTask;
        });
        await _world.PriceAsync(1m);
        await _world.PriceAsync(2m);
        await Eventually.WaitForAsync(() => Task.FromResult(received.Count), c => c == 2, what: "two ticks");
        Assert.Equal([1m, 2m], received);
        await handle.UnsubscribeAsync();
    }
}
