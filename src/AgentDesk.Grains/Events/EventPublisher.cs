using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;

namespace AgentDesk.Grains.Events;

/// <summary>Hands event drafts to their organisations' logs; the task completes when the log has stored them.</summary>
public interface IEventPublisher
{
    Task PublishAsync(IReadOnlyList<EventDraft> drafts);
}

/// <summary>
/// One per silo. Grains hand it their drafts with an in-process call; it forwards them to each organisation's log, one
/// call at a time per organisation, carrying everything that queued up while the previous call was out. A batch that
/// fills 10,000 positions so costs a few dozen calls to the log instead of 10,000, and no grain waits on the log.
/// </summary>
public sealed class EventPublisher(IGrainFactory grains) : IEventPublisher
{
    /// <summary>Drafts per call to a log: keeps a message well under Orleans' size limits.</summary>
    public const int MaxPerCall = 1_000;

    private readonly Dictionary<string, Queue> _queues = new(StringComparer.Ordinal);

    private sealed class Queue
    {
        public List<EventDraft> Drafts = [];
        public TaskCompletionSource Stored = NewSignal();
        public bool Sending;
    }

    public Task PublishAsync(IReadOnlyList<EventDraft> drafts)
    {
        if (drafts.Count == 0) return Task.CompletedTask;
        var stored = new List<Task>(1);
        foreach (var byOrganization in drafts.GroupBy(d => d.Organization, StringComparer.Ordinal))
        {
            Queue queue;
            var start = false;
            lock (_queues)
            {
                if (!_queues.TryGetValue(byOrganization.Key, out queue!)) _queues[byOrganization.Key] = queue = new Queue();
                queue.Drafts.AddRange(byOrganization);
                stored.Add(queue.Stored.Task);
                if (!queue.Sending) start = queue.Sending = true;
            }
            // Off the calling grain's scheduler: the sender loop belongs to no grain.
            if (start) _ = Task.Run(() => SendAsync(byOrganization.Key, queue));
        }
        return stored.Count == 1 ? stored[0] : Task.WhenAll(stored);
    }

    private async Task SendAsync(string organization, Queue queue)
    {
        var log = grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        while (true)
        {
            List<EventDraft> drafts;
            TaskCompletionSource stored;
            lock (_queues)
            {
                if (queue.Drafts.Count == 0)
                {
                    queue.Sending = false;
                    return;
                }
                drafts = queue.Drafts;
                stored = queue.Stored;
                queue.Drafts = [];
                queue.Stored = NewSignal();
            }
            try
            {
                foreach (var chunk in drafts.Chunk(MaxPerCall)) await log.AppendAsync(chunk);
                stored.SetResult();
            }
            catch (Exception e)
            {
                // Every sender of these drafts still holds them in its outbox and sends them again.
                stored.SetException(e);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
