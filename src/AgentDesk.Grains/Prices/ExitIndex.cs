using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;

namespace AgentDesk.Grains.Prices;

/// <summary>
/// The per-symbol exit index (docs/architecture.md, "The exit index"): which of the symbol's
/// <see cref="IExitWatchGrain.PagesPerSymbol"/> watch pages a position lives on, and in which of the page's
/// <see cref="PartsPerPage"/> stored parts.
/// </summary>
public static class ExitIndex
{
    /// <summary>
    /// How many rows a page's envelopes are stored in. A page holds a 256th of its symbol's open positions, so it grows
    /// with the symbol: stored whole, a page of a million-position symbol was 468 KB of JSON, rewritten by every exit's
    /// unwatch and every open's watch (docs/benchmarks.md). A change rewrites only its part. At most 32 (the page's row
    /// names its stored parts in one 32-bit mask); changing it, like the hash or the page count, moves stored envelopes
    /// and needs a migration of the stored index.
    /// </summary>
    public const int PartsPerPage = 32;

    /// <summary>The page a position registers on, always the same one.</summary>
    public static int PageOf(string positionKey) => (int)(Hash(positionKey) % IExitWatchGrain.PagesPerSymbol);

    /// <summary>The part of its page a position's envelope is stored in: the hash's bits above those that chose the page.</summary>
    public static int PartOf(string positionKey) => (int)(Hash(positionKey) / IExitWatchGrain.PagesPerSymbol % PartsPerPage);

    /// <summary>A stable FNV-1a hash of the position key.</summary>
    private static uint Hash(string positionKey)
    {
        var hash = 2166136261u;
        foreach (var c in positionKey)
        {
            hash ^= c;
            hash *= 16777619u;
        }
        return hash;
    }

    public static IExitWatchGrain PageFor(IGrainFactory grains, string symbol, string positionKey) =>
        grains.GetGrain<IExitWatchGrain>(GrainKeys.ExitWatch(symbol, PageOf(positionKey)));
}
