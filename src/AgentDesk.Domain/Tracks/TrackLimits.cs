using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Tracks;

/// <summary>How much more an agent may do right now under its track and allocation, in USDC.</summary>
public sealed record TradeHeadroom(
    decimal AllocationUsdc,
    decimal DeployedUsdc,
    decimal AllocationHeadroomUsdc,
    decimal MaxTradeSizeUsdc,
    decimal DailyTurnoverHeadroomUsdc,
    decimal DailyLossHeadroomUsdc)
{
    /// <summary>The largest trade every limit allows at once.</summary>
    public decimal MaxNextTradeUsdc =>
        Math.Max(0m, Math.Min(Math.Min(AllocationHeadroomUsdc, MaxTradeSizeUsdc), DailyTurnoverHeadroomUsdc));
}

/// <summary>Track limits (docs/domain.md, "Tracks"). Each rejection names the limit and the headroom left.</summary>
public static class TrackLimits
{
    public static decimal OfAllocation(decimal allocationUsdc, int bps) => Money.FloorUsdc(allocationUsdc * bps / 10_000m);

    public static TradeHeadroom Headroom(TrackPolicy track, decimal allocationUsdc, decimal deployedUsdc, DailyCounters today) => new(
        allocationUsdc,
        deployedUsdc,
        Math.Max(0m, allocationUsdc - deployedUsdc),
        OfAllocation(allocationUsdc, track.MaxTradeSizeBps),
        Math.Max(0m, OfAllocation(allocationUsdc, track.MaxDailyTurnoverBps) - today.TurnoverUsdc),
        Math.Max(0m, OfAllocation(allocationUsdc, track.MaxDailyLossBps) - today.RealizedLossUsdc));

    /// <summary>
    /// Checks a trade of <paramref name="usdcAmount"/> (an open or an add). <paramref name="today"/> must
    /// already be today's counters (<see cref="DailyCounters.ForDay"/>).
    /// </summary>
    public static Rejection? CheckTrade(TrackPolicy track, decimal allocationUsdc, decimal deployedUsdc, DailyCounters today, decimal usdcAmount)
    {
        var headroom = Headroom(track, allocationUsdc, deployedUsdc, today);
        if (allocationUsdc <= 0)
            return new Rejection(Errors.NoAllocation, "The agent has no vault allocation to trade with.");
        if (headroom.DailyLossHeadroomUsdc <= 0)
            return Limit(Errors.TrackDailyLossReached, "maxDailyLossBps", track.MaxDailyLossBps, 0m,
                $"Today's realised losses ({today.RealizedLossUsdc} USDC) reached the {track.Name} track's daily loss limit; trading resumes at 00:00 UTC.");
        if (usdcAmount > headroom.MaxTradeSizeUsdc)
            return Limit(Errors.TrackTradeSizeExceeded, "maxTradeSizeBps", track.MaxTradeSizeBps, headroom.MaxTradeSizeUsdc,
                $"{usdcAmount} USDC exceeds the {track.Name} track's maximum trade size of {headroom.MaxTradeSizeUsdc} USDC.");
        if (usdcAmount > headroom.DailyTurnoverHeadroomUsdc)
            return Limit(Errors.TrackDailyTurnoverExceeded, "maxDailyTurnoverBps", track.MaxDailyTurnoverBps, headroom.DailyTurnoverHeadroomUsdc,
                $"{usdcAmount} USDC exceeds today's remaining turnover of {headroom.DailyTurnoverHeadroomUsdc} USDC on the {track.Name} track.");
        if (usdcAmount > headroom.AllocationHeadroomUsdc)
            return Limit(Errors.AllocationExceeded, "allocationUsdc", null, headroom.AllocationHeadroomUsdc,
                $"{usdcAmount} USDC exceeds the agent's unused allocation of {headroom.AllocationHeadroomUsdc} USDC.");
        return null;
    }

    private static Rejection Limit(ErrorCode code, string limit, int? limitBps, decimal headroomUsdc, string message)
    {
        var rejection = new Rejection(code, message).With("limit", limit).With("headroomUsdc", headroomUsdc);
        return limitBps is { } bps ? rejection.With("limitBps", bps) : rejection;
    }
}
