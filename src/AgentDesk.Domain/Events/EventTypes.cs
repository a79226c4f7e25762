using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Events;

/// <summary>
/// The kinds of event AgentDesk reports (docs/events.md). Names are the wire names: the SSE <c>event:</c> field, the
/// envelope's <c>type</c>, and what a webhook subscribes to.
/// </summary>
public static class EventTypes
{
    public const string BatchStarted = "batch.started";
    public const string BatchProgress = "batch.progress";
    public const string BatchCompleted = "batch.completed";
    public const string PositionFilled = "position.filled";
    public const string PositionExited = "position.exited";
    public const string PositionCancelled = "position.cancelled";
    public const string PositionSettled = "position.settled";
    public const string IntentAccepted = "intent.accepted";
    public const string IntentRefused = "intent.refused";
    public const string PriceHeld = "price.held";
    public const string AgentPaused = "agent.paused";
    public const string AgentResumed = "agent.resumed";

    /// <summary>In a webhook's <c>events</c>: every type, including ones added later.</summary>
    public const string Any = "*";

    public static readonly IReadOnlyList<string> All =
    [
        BatchStarted, BatchProgress, BatchCompleted, PositionFilled, PositionExited, PositionCancelled, PositionSettled,
        IntentAccepted, IntentRefused, PriceHeld, AgentPaused, AgentResumed,
    ];

    private static readonly HashSet<string> Known = new(All, StringComparer.Ordinal);

    public static bool IsKnown(string? type) => type is not null && Known.Contains(type);

    /// <summary>
    /// Reads a set of types (a webhook's list, or the SSE <c>types</c> filter split at commas). Empty or <see cref="Any"/>
    /// means every type (null); an unknown name is refused, so a misspelt type never silently matches nothing.
    /// </summary>
    public static Outcome<IReadOnlySet<string>?> ParseFilter(IEnumerable<string>? types)
    {
        var names = (types ?? []).Select(t => t?.Trim() ?? "").Where(t => t.Length > 0).ToList();
        // Every type once, plus '*': anything longer repeats itself.
        if (names.Count > All.Count + 1)
            return new Rejection(Errors.InvalidEventTypes, $"At most {All.Count} event types (or '*'); the known ones are {string.Join(", ", All)}.");
        var unknown = names.Where(n => n != Any && !IsKnown(n)).Distinct().ToList();
        if (unknown.Count > 0)
            return new Rejection(Errors.InvalidEventTypes,
                $"Unknown event type{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{Truncate(u)}'"))}; the known ones are {string.Join(", ", All)}, or '*'.");
        if (names.Count == 0 || names.Contains(Any)) return Outcome<IReadOnlySet<string>?>.Ok(null);
        return Outcome<IReadOnlySet<string>?>.Ok(new HashSet<string>(names, StringComparer.Ordinal));
    }

    /// <summary>True when <paramref name="type"/> passes <paramref name="filter"/> (null: every type).</summary>
    public static bool Matches(IReadOnlySet<string>? filter, string type) => filter is null || filter.Contains(type);

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
