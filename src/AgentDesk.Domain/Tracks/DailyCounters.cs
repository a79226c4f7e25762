namespace AgentDesk.Domain.Tracks;

/// <summary>
/// An agent's usage for one UTC day: USDC traded (opens and adds) and USDC of realised losses.
/// Counters belong to <see cref="Day"/>; <see cref="ForDay"/> starts a fresh day at 00:00 UTC.
/// </summary>
public sealed record DailyCounters(DateOnly Day, decimal TurnoverUsdc, decimal RealizedLossUsdc)
{
    public static DailyCounters Start(DateTimeOffset now) => new(UtcDay(now), 0m, 0m);

    public static DateOnly UtcDay(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime);

    /// <summary>
    /// These counters if they are today's, otherwise a fresh day's. A clock that reads a day these counters have left (a
    /// silo a second behind another, around midnight) keeps them: only a later day starts afresh.
    /// </summary>
    public DailyCounters ForDay(DateTimeOffset now) => UtcDay(now) <= Day ? this : Start(now);

    public DailyCounters AddTurnover(DateTimeOffset now, decimal usdc)
    {
        var today = ForDay(now);
        return today with { TurnoverUsdc = today.TurnoverUsdc + usdc };
    }

    /// <summary>Counts a realised loss (a negative P/L); gains do not offset the day's losses.</summary>
    public DailyCounters AddRealizedPnl(DateTimeOffset now, decimal pnlUsdc)
    {
        var today = ForDay(now);
        return pnlUsdc < 0 ? today with { RealizedLossUsdc = today.RealizedLossUsdc - pnlUsdc } : today;
    }
}
