using System.Text.Json.Nodes;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Events;
using AgentDesk.Testing;

namespace AgentDesk.Cluster.Tests.Events;

/// <summary>Reads an organisation's event log the way a consumer does: pages after a cursor, oldest first.</summary>
public static class EventLogReader
{
    public static async Task<IReadOnlyList<EventRecord>> AllAsync(IGrainFactory grains, string organization)
    {
        var log = grains.GetGrain<IEventLogGrain>(GrainKeys.EventLog(organization));
        var events = new List<EventRecord>();
        long cursor = 0;
        for (var pages = 0; pages < 1_000; pages++)
        {
            var page = await log.ReadAsync(cursor, 500);
            events.AddRange(page.Events);
            if (page.Events.Count == 0) break;
            cursor = page.Through;
        }
        return events;
    }

    /// <summary>Waits until the log holds what <paramref name="done"/> asks for, and returns every event.</summary>
    public static Task<IReadOnlyList<EventRecord>> WaitForAsync(IGrainFactory grains, string organization, Func<IReadOnlyList<EventRecord>, bool> done, string what,
        TimeSpan? timeout = null) =>
        Eventually.WaitForAsync(() => AllAsync(grains, organization), done, timeout, what);

    public static JsonNode Data(this EventRecord e) => JsonNode.Parse(e.Data)!;

    public static int Count(this IReadOnlyList<EventRecord> events, string type) => events.Count(e => e.Type == type);
}
