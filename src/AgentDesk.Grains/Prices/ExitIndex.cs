using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;

namespace AgentDesk.Grains.Prices;

/// <summary>
/// The per-symbol exit index (docs/architecture.md, "The exit index"): which of the symbol's
/// <see cref="IExitWatchGrain.PagesPerSymbol"/> watch pages a position lives on.
/// </summary>
public static class ExitIndex
{
    /// <summary>A stable FNV-1a hash of the position key, so a position always registers on the same page.</summary>
    public static int PageOf(string positionKey)
    {
        var hash = 2166136261u;
        foreach (var c in positionKey)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return (int)(hash % IExitWatchGrain.PagesPerSymbol);
    }

    public static IExitWatchGrain PageFor(IGrainFactory grains, string symbol, string positionKey) =>
        grains.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(symbol, PageOf(positionKey)));
}
