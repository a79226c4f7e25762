namespace AgentDesk.Domain.Exits;

/// <summary>
/// How long an exit the venue refused waits before its next try (docs/domain.md, "Exits"): the retry period after the
/// first refusal, doubling with each further one, up to an hour (or the period, when that is longer). A cause only the
/// subscriber can remove (an allowance withdrawn) then costs one failed order an hour on a chain, not one a period, while
/// a passing one (a stale pool feed) is tried again soon.
/// </summary>
public static class ExitRetry
{
    public static readonly TimeSpan LongestDelay = TimeSpan.FromHours(1);

    /// <param name="period">The retry period (AgentDesk:Retries:ReminderSeconds).</param>
    /// <param name="refusals">The sales refused so far in this lifecycle, the one just refused included.</param>
    public static TimeSpan Delay(TimeSpan period, int refusals)
    {
        var longest = period > LongestDelay ? period : LongestDelay;
        var delay = period * Math.Pow(2, Math.Clamp(refusals - 1, 0, 20));
        return delay < longest ? delay : longest;
    }
}
