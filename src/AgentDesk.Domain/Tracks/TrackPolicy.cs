using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Tracks;

/// <summary>
/// A risk track (docs/domain.md, "Tracks"). Sizes and daily limits are bps of the agent's vault allocation;
/// <see cref="ExitBounds"/> bound every exit ladder opened or updated under the track.
/// </summary>
public sealed record TrackPolicy(string Name, int MaxTradeSizeBps, int MaxDailyTurnoverBps, int MaxDailyLossBps, ExitBounds ExitBounds);

/// <summary>The built-in tracks. They are configuration: a deployment may replace or extend them.</summary>
public static class Tracks
{
    public static TrackPolicy Evaluation { get; } = new("Evaluation", 1_000, 5_000, 300,
        new ExitBounds(MaxStopLossBps: 1_000, MinTakeProfitBps: 100, MaxTakeProfitBps: 5_000, RequireStopLoss: true, RequireTakeProfit: false));

    public static TrackPolicy Funded { get; } = new("Funded", 2_000, 10_000, 500,
        new ExitBounds(MaxStopLossBps: 1_500, MinTakeProfitBps: 100, MaxTakeProfitBps: 10_000, RequireStopLoss: true, RequireTakeProfit: true));

    public static TrackPolicy Prime { get; } = new("Prime", 5_000, 30_000, 1_000,
        new ExitBounds(MaxStopLossBps: 2_500, MinTakeProfitBps: 50, MaxTakeProfitBps: 20_000, RequireStopLoss: true, RequireTakeProfit: true));

    public static IReadOnlyList<TrackPolicy> BuiltIn { get; } = [Evaluation, Funded, Prime];

    public static string DefaultName => Evaluation.Name;

    /// <summary>The track of that name (any case), or null.</summary>
    public static TrackPolicy? Find(string? name) =>
        BuiltIn.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));
}
