using System.Collections.Concurrent;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Contracts.Positions;
using AgentDesk.Grains.Options;
using AgentDesk.Silo.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// What the fault filter does to calls into one account's grain. Tests script it per account (accounts are fresh per
/// test), so tests sharing the cluster never disturb each other.
/// </summary>
public sealed class AccountFaults
{
    private int _settlementsToDrop, _transientStepFailures, _brokenStepFailures, _stepAnswersToLose, _positionAnswersToLose;
    private int _settlementsDropped, _settlementsDelivered, _stepsFailed, _venueCloseAnswersToLose, _venueClosesExecuted, _venueClosesResent;
    private int _positionCloseAnswersToLose, _venueClosesToRefuse, _venueClosesRefused;
    private volatile bool _failPositionCloses;

    /// <summary>Settlements to swallow before letting one through (the sender believes it sent them).</summary>
    public int SettlementsToDrop { set => Volatile.Write(ref _settlementsToDrop, value); }

    /// <summary>While set, every settlement is swallowed.</summary>
    public bool DropAllSettlements { get; set; }

    /// <summary>Deliver the next settlement that gets through a second time, as a re-send racing a late confirmation would.</summary>
    public bool DuplicateNextSettlement { get; set; }

    /// <summary>Batch steps to fail with a transient cluster error (an unreachable silo) before one succeeds.</summary>
    public int TransientStepFailures { set => Volatile.Write(ref _transientStepFailures, value); }

    /// <summary>Batch steps to fail with a bug-like exception before one succeeds.</summary>
    public int BrokenStepFailures { set => Volatile.Write(ref _brokenStepFailures, value); }

    /// <summary>
    /// While set, a step that is to fail like a bug first signals <see cref="BrokenStepReached"/> and waits for this, holding
    /// the account's turn so that a test can queue calls behind it.
    /// </summary>
    public TaskCompletionSource? HoldBrokenStep { get; set; }

    public TaskCompletionSource BrokenStepReached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Batch steps to carry out and then fail with a bug-like exception: the work is done, its answer lost.</summary>
    public int StepAnswersToLose { set => Volatile.Write(ref _stepAnswersToLose, value); }

    /// <summary>
    /// Opens of this account's positions to carry out and then fail before the account hears of them (as when the
    /// account's write fails after its position opened).
    /// </summary>
    public int PositionAnswersToLose { set => Volatile.Write(ref _positionAnswersToLose, value); }

    /// <summary>
    /// Closes of this account's position to carry out and then fail before the caller hears of them (as when the caller's
    /// silo died while the position answered).
    /// </summary>
    public int PositionCloseAnswersToLose { set => Volatile.Write(ref _positionCloseAnswersToLose, value); }

    /// <summary>
    /// Once an open's answer has been lost, every later step of this batch fails as unreachable until
    /// <see cref="ReleaseHeldBatch"/>: the batch waits for its reminder while the test changes the world.
    /// </summary>
    public Guid? HoldBatchAfterLostAnswer { get; set; }

    private const int NotHolding = 0, Holding = 1, Released = 2;
    private int _hold, _heldBatchStepsAfterRelease;

    public void ReleaseHeldBatch() => Volatile.Write(ref _hold, Released);

    /// <summary>Steps of the held batch that reached the account after its release (not the batch's give-up path).</summary>
    public int HeldBatchStepsAfterRelease => Volatile.Read(ref _heldBatchStepsAfterRelease);

    /// <summary>
    /// Closes of this account's position for the venue to carry out and then lose the answer of, as a chain that mined
    /// the sale while its reply was lost (<see cref="OutsideVenue"/>). After one is lost, <see cref="FailPositionCloses"/>.
    /// </summary>
    public int VenueCloseAnswersToLose { set => Volatile.Write(ref _venueCloseAnswersToLose, value); }

    /// <summary>Closes of this account's position for the venue to refuse before one goes through, as a chain refuses a sale whose allowance was withdrawn.</summary>
    public int VenueClosesToRefuse { set => Volatile.Write(ref _venueClosesToRefuse, value); }

    /// <summary>Closes the venue refused (<see cref="VenueClosesToRefuse"/>).</summary>
    public int VenueClosesRefused => Volatile.Read(ref _venueClosesRefused);

    internal bool RefuseVenueClose()
    {
        if (!Take(ref _venueClosesToRefuse)) return false;
        Interlocked.Increment(ref _venueClosesRefused);
        return true;
    }

    private int _subscriptionAddsToFail;

    /// <summary>Subscriptions the account fails to record, unreached, before one gets through (a follow that broke off part-way).</summary>
    public int SubscriptionAddsToFail { set => Volatile.Write(ref _subscriptionAddsToFail, value); }

    internal bool FailSubscriptionAdd() => Interlocked.Decrement(ref _subscriptionAddsToFail) >= 0;

    private int _subscriptionRemovalsToFail;

    /// <summary>Unfollows the account fails to record, unreached, before one gets through (an unfollow that broke off part-way).</summary>
    public int SubscriptionRemovalsToFail { set => Volatile.Write(ref _subscriptionRemovalsToFail, value); }

    internal bool FailSubscriptionRemoval() => Interlocked.Decrement(ref _subscriptionRemovalsToFail) >= 0;

    /// <summary>While set, every call of the position's close fails like a bug before reaching it, so a batch gives up on the step.</summary>
    public bool FailPositionCloses { get => _failPositionCloses; set => _failPositionCloses = value; }

    /// <summary>Closes the venue carried out for this account's position (each order once, however often it was sent).</summary>
    public int VenueClosesExecuted => Volatile.Read(ref _venueClosesExecuted);

    /// <summary>Closes sent again for an order the venue had carried out, instead of asked about (a chain would refuse them).</summary>
    public int VenueClosesResent => Volatile.Read(ref _venueClosesResent);

    public int SettlementsDropped => Volatile.Read(ref _settlementsDropped);
    public int SettlementsDelivered => Volatile.Read(ref _settlementsDelivered);
    public int StepsFailed => Volatile.Read(ref _stepsFailed);

    internal bool DropSettlement()
    {
        if (!DropAllSettlements && Interlocked.Decrement(ref _settlementsToDrop) < 0) return false;
        Interlocked.Increment(ref _settlementsDropped);
        return true;
    }

    internal void Delivered() => Interlocked.Increment(ref _settlementsDelivered);

    internal bool FailTransiently() => Take(ref _transientStepFailures);

    internal bool FailBroken() => Take(ref _brokenStepFailures);

    internal bool LoseStepAnswer() => Take(ref _stepAnswersToLose);

    internal void VenueClosed() => Interlocked.Increment(ref _venueClosesExecuted);

    internal void VenueCloseResent() => Interlocked.Increment(ref _venueClosesResent);

    internal bool LoseVenueCloseAnswer()
    {
        if (!Take(ref _venueCloseAnswersToLose)) return false;
        FailPositionCloses = true;
        return true;
    }

    internal bool LosePositionAnswer()
    {
        if (!Take(ref _positionAnswersToLose)) return false;
        if (HoldBatchAfterLostAnswer is not null) Interlocked.CompareExchange(ref _hold, Holding, NotHolding);
        return true;
    }

    internal bool LosePositionCloseAnswer() => Take(ref _positionCloseAnswersToLose);

    internal bool Holds(Guid batchId)
    {
        if (HoldBatchAfterLostAnswer != batchId) return false;
        var hold = Volatile.Read(ref _hold);
        if (hold == Released) Interlocked.Increment(ref _heldBatchStepsAfterRelease);
        return hold == Holding;
    }

    private bool Take(ref int budget)
    {
        if (Interlocked.Decrement(ref budget) < 0) return false;
        Interlocked.Increment(ref _stepsFailed);
        return true;
    }
}

/// <summary>The scripted faults, by account grain key; shared by the in-process silo and the test.</summary>
public static class FaultPlan
{
    private static readonly ConcurrentDictionary<string, AccountFaults> ByGrainKey = new();

    public static AccountFaults For(string organization, string account) => ByGrainKey.GetOrAdd(GrainKeys.Account(organization, account), _ => new AccountFaults());

    /// <summary>The same plan, found by the key of one of the account's positions too.</summary>
    public static AccountFaults ForPosition(string organization, string account, Guid agent, string symbol)
    {
        var faults = For(organization, account);
        ByGrainKey[GrainKeys.Position(agent, account, symbol)] = faults;
        return faults;
    }

    public static AccountFaults? Find(string grainKey) => ByGrainKey.GetValueOrDefault(grainKey);

    private static readonly ConcurrentDictionary<string, int> LedgerRefundCalls = new();

    /// <summary>How often the fee ledger with this grain key was asked for a refund, however many it took.</summary>
    public static int LedgerRefundsAsked(string ledgerKey) => LedgerRefundCalls.GetValueOrDefault(ledgerKey);

    internal static void CountLedgerRefund(string ledgerKey) => LedgerRefundCalls.AddOrUpdate(ledgerKey, 1, (_, n) => n + 1);

    private static readonly ConcurrentDictionary<string, int> LedgerRefundsToFail = new();

    /// <summary>Refunds the fee ledger with this grain key fails, unreached, before one gets through.</summary>
    public static void FailLedgerRefunds(string ledgerKey, int count) => LedgerRefundsToFail[ledgerKey] = count;

    internal static bool FailLedgerRefund(string ledgerKey) =>
        LedgerRefundsToFail.TryGetValue(ledgerKey, out var left) && left > 0 && LedgerRefundsToFail.TryUpdate(ledgerKey, left - 1, left);
}

/// <summary>
/// An incoming call filter on account and position grains: drops or duplicates settlements, fails batch steps and
/// loses answers as the plan says.
/// A test-only stand-in for a lost message, a duplicated message, and an unreachable or broken silo.
/// </summary>
public sealed class FaultFilter(IGrainFactory grains) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (context.TargetContext.GrainInstance is IFeeLedgerGrain && context.InterfaceMethod.Name == nameof(IFeeLedgerGrain.RefundAsync))
        {
            FaultPlan.CountLedgerRefund(context.TargetId.Key.ToString()!);
            if (FaultPlan.FailLedgerRefund(context.TargetId.Key.ToString()!)) throw new TimeoutException("Injected: the fee ledger did not answer.");
        }
        if (context.TargetContext.GrainInstance is not (ISubscriberGrain or IPositionGrain) || FaultPlan.Find(context.TargetId.Key.ToString()!) is not { } faults)
        {
            await context.Invoke();
            return;
        }
        if (context.TargetContext.GrainInstance is IPositionGrain)
        {
            if (context.InterfaceMethod.Name == nameof(IPositionGrain.CloseAsync) && faults.FailPositionCloses)
                throw new InvalidOperationException("Injected: a bug in the close.");
            await context.Invoke();
            if (context.InterfaceMethod.Name is nameof(IPositionGrain.OpenForBatchAsync) or nameof(IPositionGrain.OpenAsync) && faults.LosePositionAnswer())
                throw new InvalidOperationException("Injected: the position opened, and its answer was lost.");
            if (context.InterfaceMethod.Name == nameof(IPositionGrain.CloseAsync) && faults.LosePositionCloseAnswer())
                throw new InvalidOperationException("Injected: the position closed, and its answer was lost.");
            return;
        }
        switch (context.InterfaceMethod.Name)
        {
            case nameof(ISubscriberGrain.SettleAsync):
                if (faults.DropSettlement()) return;
                await context.Invoke();
                faults.Delivered();
                if (faults.DuplicateNextSettlement)
                {
                    // A second message with the same settlement, queued behind this call as a re-send would be.
                    faults.DuplicateNextSettlement = false;
                    _ = grains.GetGrain<ISubscriberGrain>(context.TargetId.Key.ToString()!).SettleAsync((Settlement)context.Request.GetArgument(0)!);
                }
                return;
            case nameof(ISubscriberGrain.OpenFromBatchAsync):
                if (faults.FailTransiently() || faults.Holds(((BatchOpenStep)context.Request.GetArgument(0)!).BatchId))
                    throw new TimeoutException("Injected: the account's silo did not answer.");
                if (faults.FailBroken())
                {
                    if (faults.HoldBrokenStep is { } hold)
                    {
                        faults.BrokenStepReached.TrySetResult();
                        try
                        {
                            await hold.Task.WaitAsync(TimeSpan.FromSeconds(30));
                        }
                        catch (TimeoutException)
                        {
                            // a test that failed before releasing it must not hold the account's turn in the shared cluster
                        }
                    }
                    throw new InvalidOperationException("Injected: a bug in the step.");
                }
                await context.Invoke();
                if (faults.LoseStepAnswer()) throw new InvalidOperationException("Injected: the step was done, and its answer was lost.");
                return;
            case nameof(ISubscriberGrain.RemoveSubscriptionAsync):
                if (faults.FailSubscriptionRemoval()) throw new TimeoutException("Injected: the account's silo did not answer.");
                await context.Invoke();
                return;
            case nameof(ISubscriberGrain.AddSubscriptionAsync):
                if (faults.FailSubscriptionAdd()) throw new TimeoutException("Injected: the account's silo did not answer.");
                await context.Invoke();
                return;
            default:
                await context.Invoke();
                return;
        }
    }
}

/// <summary>
/// An in-process cluster (memory storage) with the fault filter and short retry periods: outboxes re-send after 1 s,
/// reminders fire every 2 s, so redelivery and resumption are observable within a test.
/// </summary>
public sealed class FaultyClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync() => Cluster = await StartAsync(_ => { });

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Starts such a cluster; <paramref name="services"/> registers the silo's services that replace the product's.</summary>
    internal static async Task<InProcessTestCluster> StartAsync(Action<IServiceCollection> services)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            services(silo.Services);
            silo.AddAgentDeskGrains(new AgentDeskClusterOptions { Mode = ClusterMode.Memory });
            silo.Services.Configure<PriceOptions>(o => o.MaxJumpBps = 1_000_000);
            silo.Services.Configure<RetryOptions>(o =>
            {
                o.ResendSeconds = 1;
                o.ReminderSeconds = 2;
            });
            silo.AddIncomingGrainCallFilter<FaultFilter>();
        });
        builder.ConfigureClient(client =>
        {
            client.Services.AddAgentDeskSerialization();
            client.AddMemoryStreams(Contracts.Prices.IPriceFeedGrain.StreamProvider);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }
}

[CollectionDefinition(Name)]
public sealed class FaultyClusterCollection : ICollectionFixture<FaultyClusterFixture>
{
    public const string Name = "faulty cluster";
}
