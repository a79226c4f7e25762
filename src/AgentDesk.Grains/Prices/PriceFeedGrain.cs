using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Prices;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Domain.Prices;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace AgentDesk.Grains.Prices;

public sealed class PriceFeedState
{
    public GuardedPrice Guard { get; set; } = new(null, null);

    /// <summary>Accepted ticks so far: the sequence of the latest one.</summary>
    public long Sequence { get; set; }

    /// <summary>Exit-watch pages that hold positions on this symbol.</summary>
    public SortedSet<int> ActivePages { get; set; } = [];

    /// <summary>Held-price events the organisations' logs have not confirmed yet.</summary>
    public List<EventDraft> Events { get; set; } = [];
}

/// <summary>
/// A symbol's price feed. Each tick passes the domain's <see cref="PriceGuard"/>: an accepted tick becomes the latest
/// price, is published on the <c>prices</c> stream for any observer, and is handed (without waiting, re-sent until acknowledged) to the symbol's active
/// exit-watch pages; a held outlier is stored aside and used for nothing until confirmed. See
/// docs/architecture.md for why exits use the watch pages rather than one stream subscription per position.
/// </summary>
[GrainType("price-feed")]
public sealed class PriceFeedGrain(
    [PersistentState(StorageNames.PriceFeed, StorageNames.Provider)] IPersistentState<PriceFeedState> state,
    IOptions<PriceOptions> options,
    IOptions<EventOptions> eventOptions,
    IOptions<RetryOptions> retries,
    IEventPublisher publisher,
    ILogger<PriceFeedGrain> logger) : Grain, IPriceFeedGrain, IRemindable
{
    private IAsyncStream<PriceTick>? _stream;
    private EventOutbox? _events;
    private TickDelivery? _delivery;

    private EventOutbox Events => _events ??= new EventOutbox(this, () => S.Events, e => S.Events = e, publisher, eventOptions.Value, retries.Value);

    /// <summary>Ticks to the exit-watch pages: not waited for, re-sent to a page until it acknowledges (docs/architecture.md, "The exit index").</summary>
    private TickDelivery Delivery => _delivery ??= new TickDelivery(this, (page, tick) => GrainFactory.GetGrain<IExitWatchGrain>(page).OnPriceAsync(tick), logger);

    private PriceFeedState S => state.State;
    private string Symbol => GrainKeys.After(this.GetPrimaryKeyString(), "price:");

    /// <summary>Messages still outstanding are re-sent by a reminder once this activation is gone.</summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await Events.OnDeactivateAsync(cancellationToken);
    }

    /// <summary>
    /// Re-sends the latest tick to the active pages now and then. A tick is re-sent until a page acknowledges it, but the
    /// re-sending lives in an activation: a feed whose silo dies takes its pending re-sends along, and a page that
    /// acknowledged and then died takes its pending hand-offs to positions. In a quiet market no new tick would come to
    /// repair that, and a crossed stop would wait. Pages and positions ignore a tick they already evaluated, so a repeat
    /// costs one pass over each page's envelopes.
    /// </summary>
    public const string RedeliveryReminder = "redeliver-latest";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(IPriceFeedGrain.StreamProvider)
            .GetStream<PriceTick>(StreamId.Create(IPriceFeedGrain.StreamNamespace, Symbol));
        Events.Publish();
        if (S.ActivePages.Count == 0) return;
        // A new activation (its predecessor may have died with re-sends pending) starts by sending the latest tick again.
        RedeliverLatest();
        try
        {
            await this.RegisterOrUpdateReminder(RedeliveryReminder, retries.Value.Reminder, retries.Value.Reminder, cancellationToken);
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e))
        {
            logger.LogWarning(e, "{Symbol}: the re-delivery reminder could not be registered; the next page activation registers it", Symbol);
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == EventOutbox.ReminderName) await Events.OnReminderAsync();
        if (reminderName == RedeliveryReminder) RedeliverLatest();
    }

    public async Task<Result<PriceFeedView>> PushAsync(decimal priceUsd, DateTimeOffset at, string? reportTo = null)
    {
        if (PriceGuard.Validate(priceUsd, "priceUsd") is { } invalid) return invalid;
        var first = S.Guard.Accepted is null;
        var (guarded, decision) = PriceGuard.Apply(S.Guard, new PriceQuote(priceUsd, at), options.Value.Policy);
        // The same reading again (every silo reading a chain feed pushes each round) or an older one: nothing to store or send.
        if (decision == TickDecision.Ignored) return Result<PriceFeedView>.Ok(View(PriceDecision.Ignored));
        S.Guard = guarded;
        if (decision == TickDecision.Held)
        {
            if (reportTo is not null && Organizations.IsValid(reportTo))
            {
                var last = Latest();
                Events.Add(EventDrafts.Create(reportTo, $"held:{Symbol}:{S.Sequence}:{at.UtcTicks}:{priceUsd.ToString(System.Globalization.CultureInfo.InvariantCulture)}", EventTypes.PriceHeld, null, null, Symbol, at,
                    new PriceHeldEventData(priceUsd, at, last?.PriceUsd, S.Sequence)));
            }
            await state.WriteStateAsync();
            Events.Publish();
            return Result<PriceFeedView>.Ok(View(PriceDecision.Held));
        }
        await PublishAsync();
        if (first) await GrainFactory.GetGrain<IPriceDirectoryGrain>(GrainKeys.PriceDirectory).AddAsync(Symbol);
        return Result<PriceFeedView>.Ok(View(decision == TickDecision.Confirmed ? PriceDecision.Confirmed : PriceDecision.Accepted));
    }

    public async Task<Result<PriceFeedView>> AcceptHeldAsync(DateTimeOffset at)
    {
        if (S.Guard.Held is null) return Result<PriceFeedView>.Fail(Errors.NoHeldPrice, $"{Symbol} has no held price.");
        S.Guard = PriceGuard.AcceptHeld(S.Guard);
        await PublishAsync();
        return Result<PriceFeedView>.Ok(View(PriceDecision.Accepted));
    }

    public Task<PriceTick?> GetLatestAsync() => Task.FromResult(Latest());

    public Task<PriceFeedView> GetViewAsync() => Task.FromResult(View(null));

    public async Task ActivatePageAsync(int page)
    {
        if (S.ActivePages.Contains(page)) return;
        // The first page needs the re-delivery reminder, registered before the page is stored so a stored page always has
        // one; later pages share it.
        if (S.ActivePages.Count == 0) await this.RegisterOrUpdateReminder(RedeliveryReminder, retries.Value.Reminder, retries.Value.Reminder);
        S.ActivePages.Add(page);
        await state.WriteStateAsync();
    }

    private void RedeliverLatest()
    {
        if (Latest() is not { } tick) return;
        foreach (var page in S.ActivePages) Delivery.Send(GrainKeys.ExitWatch(Symbol, page), tick);
    }

    /// <summary>Stores the newly accepted price, then hands it to the exit index and the stream.</summary>
    private async Task PublishAsync()
    {
        S.Sequence++;
        await state.WriteStateAsync();
        var tick = Latest()!;
        foreach (var page in S.ActivePages) Delivery.Send(GrainKeys.ExitWatch(Symbol, page), tick);
        await _stream!.OnNextAsync(tick);
    }

    private PriceTick? Latest() => S.Guard.Accepted is { } accepted ? new PriceTick(Symbol, accepted.PriceUsd, accepted.At, S.Sequence) : null;

    private PriceFeedView View(PriceDecision? decision) => new(Symbol, Latest(), S.Guard.Held?.PriceUsd, S.Guard.Held?.At, decision);
}
