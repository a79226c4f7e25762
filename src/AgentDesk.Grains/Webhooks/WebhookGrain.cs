using System.Diagnostics;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Contracts.Webhooks;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Events;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentDesk.Grains.Webhooks;

public sealed class WebhookState
{
    public bool Exists { get; set; }
    public bool Deleted { get; set; }
    public string Url { get; set; } = "";

    /// <summary>The event types delivered; null for every type.</summary>
    public List<string>? Types { get; set; }

    /// <summary>The signing secret; forgotten when the webhook is deleted.</summary>
    public string Secret { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Every event up to this id was delivered, given up on, or not of a delivered type.</summary>
    public long Cursor { get; set; }

    public long Delivered { get; set; }
    public long Failed { get; set; }

    /// <summary>Failed attempts at the event after <see cref="Cursor"/> that is being retried (0 when none is).</summary>
    public int Attempts { get; set; }

    public DateTimeOffset? FirstAttemptAt { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public long RetryingEventId { get; set; }

    /// <summary>The latest attempts, oldest first, at most <see cref="WebhookGrain.KeptAttempts"/>.</summary>
    public List<DeliveryAttempt> DeliveryLog { get; set; } = [];
}

/// <summary>
/// A webhook and its delivery. A timer (kept alive while the webhook exists, restarted by a reminder after a silo restart)
/// reads the organisation's log after the cursor and POSTs each matching event in id order; the next event waits until
/// the current one is delivered or given up, so a receiver sees events in id order. Delivery is at least once: the cursor
/// is stored at most once a second (and at every retry or give-up), so a crash can repeat the latest deliveries; receivers
/// de-duplicate by the AgentDesk-Event-Id header.
/// </summary>
[GrainType("webhook")]
public sealed class WebhookGrain(
    [PersistentState(StorageNames.Webhook, StorageNames.Provider)] IPersistentState<WebhookState> state,
    IWebhookSender sender,
    IOptions<WebhookOptions> options,
    IOptions<RetryOptions> retries,
    TimeProvider clock,
    ILogger<WebhookGrain> logger) : Grain, IWebhookGrain, IRemindable
{
    public const int KeptAttempts = 200;
    private const string DeliveryReminder = "deliver";
    private const int PageSize = 100;

    /// <summary>One timer turn delivers for at most this long, so reads of the webhook are never kept waiting for long.</summary>
    private static readonly TimeSpan MaxTurn = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(1);

    private IGrainTimer? _timer;
    private bool _dirty;
    private DateTimeOffset _lastWrite;

    private WebhookState S => state.State;
    private bool Active => S.Exists && !S.Deleted;
    private (string Organization, Guid WebhookId) Key => GrainKeys.ParseWebhook(this.GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Active) StartTimer();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_dirty && Active) await state.WriteStateAsync(cancellationToken);
    }

    public async Task<Result<WebhookView>> CreateAsync(WebhookRegistration registration)
    {
        var types = registration.Types?.ToList();
        if (S.Exists)
        {
            var same = !S.Deleted && S.Url == registration.Url && S.Secret == registration.Secret
                && (S.Types ?? []).SequenceEqual(types ?? []);
            return same
                ? Result<WebhookView>.Ok(View())
                : Result<WebhookView>.Fail(Errors.IdempotencyConflict, $"Webhook {Key.WebhookId} was already registered with another request.");
        }
        S.Exists = true;
        S.Url = registration.Url;
        S.Types = types;
        S.Secret = registration.Secret;
        S.CreatedAt = clock.GetUtcNow();
        // Events from now on: a new webhook is not sent the organisation's history.
        S.Cursor = await GrainFactory.GetGrain<IEventLogGrain>(GrainKeys.EventLog(Key.Organization)).GetLastIdAsync();
        // The reminder before the write: a stored webhook always has one to wake it after a restart (registered after, a
        // failed registration left a webhook that a retry reported as created and that never delivered).
        await this.RegisterOrUpdateReminder(DeliveryReminder, retries.Value.Reminder, retries.Value.Reminder);
        await state.WriteStateAsync();
        _lastWrite = clock.GetUtcNow();
        StartTimer();
        return Result<WebhookView>.Ok(View());
    }

    public Task<WebhookView?> GetAsync() => Task.FromResult(Active ? View() : null);

    public async Task<Result<WebhookView>> DeleteAsync()
    {
        if (!Active) return Result<WebhookView>.Fail(Errors.WebhookNotFound, $"Webhook {Key.WebhookId} does not exist.");
        var view = View();
        _timer?.Dispose();
        _timer = null;
        S.Deleted = true;
        S.Secret = "";
        await state.WriteStateAsync();
        if (await this.GetReminder(DeliveryReminder) is { } reminder) await this.UnregisterReminder(reminder);
        return Result<WebhookView>.Ok(view);
    }

    public Task<IReadOnlyList<DeliveryAttempt>?> GetDeliveriesAsync(int limit) => Task.FromResult<IReadOnlyList<DeliveryAttempt>?>(Active
        ? S.DeliveryLog.AsEnumerable().Reverse().Take(Math.Clamp(limit, 1, KeptAttempts)).ToArray()
        : null);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != DeliveryReminder) return;
        if (Active) StartTimer();
        else if (await this.GetReminder(DeliveryReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private void StartTimer() => _timer ??= this.RegisterGrainTimer(DeliverAsync,
        new GrainTimerCreationOptions(options.Value.Poll, options.Value.Poll) { KeepAlive = true, Interleave = false });

    /// <summary>One timer turn: deliver what is due, in id order, for at most <see cref="MaxTurn"/>.</summary>
    private async Task DeliverAsync(CancellationToken cancellationToken)
    {
        if (!Active || (S.NextAttemptAt is { } next && clock.GetUtcNow() < next)) return;
        var log = GrainFactory.GetGrain<IEventLogGrain>(GrainKeys.EventLog(Key.Organization));
        var filter = S.Types is null ? null : new HashSet<string>(S.Types, StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        var waiting = false;
        while (!waiting && watch.Elapsed < MaxTurn && !cancellationToken.IsCancellationRequested)
        {
            var page = await log.ReadAsync(S.Cursor, PageSize);
            var handledAll = true;
            foreach (var e in page.Events)
            {
                if (EventTypes.Matches(filter, e.Type) && !await DeliverOneAsync(e))
                {
                    waiting = true;
                    break;
                }
                S.Cursor = e.Id;
                _dirty = true;
                if (watch.Elapsed >= MaxTurn)
                {
                    handledAll = false;
                    break;
                }
            }
            if (waiting || !handledAll) break;
            if (page.Through > S.Cursor)
            {
                S.Cursor = page.Through;
                _dirty = true;
            }
            if (page.Events.Count == 0) break;
        }
        if (_dirty && (waiting || clock.GetUtcNow() - _lastWrite >= CheckpointInterval)) await CheckpointAsync();
    }

    /// <summary>Sends one event; true when the webhook may move past it (delivered, or given up after its retry window).</summary>
    private async Task<bool> DeliverOneAsync(EventRecord e)
    {
        var now = clock.GetUtcNow();
        if (S.RetryingEventId != e.Id)
        {
            S.RetryingEventId = e.Id;
            S.Attempts = 0;
            S.FirstAttemptAt = null;
            S.NextAttemptAt = null;
        }
        var attempt = S.Attempts + 1;
        var response = await sender.SendAsync(S.Url, S.Secret, e.Id, e.Type, EventJson.Envelope(e), now);
        if (response.Delivered)
        {
            Record(e, attempt, now, "delivered", response);
            S.Delivered++;
            ClearRetry();
            return true;
        }
        var schedule = options.Value.Schedule;
        var first = S.FirstAttemptAt ??= now;
        var after = clock.GetUtcNow();
        if (schedule.GivesUp(first, after))
        {
            Record(e, attempt, now, "failed", response with { Error = $"{response.Error}; gave up after {attempt} attempts over {(after - first).TotalMinutes:0.#} min" });
            logger.LogWarning("Webhook {Webhook}: gave up on event {EventId} after {Attempts} attempts: {Error}", Key.WebhookId, e.Id, attempt, response.Error);
            S.Failed++;
            ClearRetry();
            return true;
        }
        Record(e, attempt, now, "retrying", response);
        S.Attempts = attempt;
        var giveUpAt = first + schedule.GiveUpAfter;
        var retryAt = after + schedule.Backoff(attempt);
        S.NextAttemptAt = retryAt < giveUpAt ? retryAt : giveUpAt;
        return false;
    }

    private void ClearRetry()
    {
        S.RetryingEventId = 0;
        S.Attempts = 0;
        S.FirstAttemptAt = null;
        S.NextAttemptAt = null;
    }

    private void Record(EventRecord e, int attempt, DateTimeOffset at, string outcome, WebhookResponse response)
    {
        S.DeliveryLog.Add(new DeliveryAttempt(e.Id, e.Type, attempt, at, outcome, response.StatusCode, response.Error, Math.Round(response.Duration.TotalMilliseconds, 1)));
        if (S.DeliveryLog.Count > KeptAttempts) S.DeliveryLog.RemoveRange(0, S.DeliveryLog.Count - KeptAttempts);
        _dirty = true;
    }

    private async Task CheckpointAsync()
    {
        await state.WriteStateAsync();
        _dirty = false;
        _lastWrite = clock.GetUtcNow();
    }

    private WebhookView View() => new(Key.WebhookId, S.Url, S.Types ?? [EventTypes.Any], S.CreatedAt, S.Cursor, S.Delivered, S.Failed,
        S.Attempts > 0 && S.FirstAttemptAt is { } first && S.NextAttemptAt is { } next
            ? new PendingDelivery(S.RetryingEventId, S.Attempts, first, next, first + options.Value.Schedule.GiveUpAfter)
            : null);
}
