using System.Globalization;

namespace AgentDesk.Benchmarks;

/// <summary>The performance goals (docs/benchmarks.md) and, after a run, a table of each against what this run measured.</summary>
public static class Goals
{
    private sealed record Goal(string Name, string Text, Func<IReadOnlyDictionary<string, double>, double?> Measured, Func<double, bool> Met, string Unit);

    private static double? Get(IReadOnlyDictionary<string, double> figures, string name) => figures.TryGetValue(name, out var value) ? value : null;

    private static readonly Goal[] All =
    [
        new("fanout.batch_open_10k_memory", "under 1,000", f => Get(f, "fanout.batch_open_10k_memory"), v => v < 1_000, "ms"),
        new("fanout.postgres_vs_memory", "at most 2", f => Get(f, "fanout.postgres_vs_memory"), v => v <= 2, "x"),
        new("exits.tick_to_1000_exits_filled", "under 150", f => Get(f, "exits.tick_to_1000_exits_filled"), v => v < 150, "ms"),
        new("exits.tick_to_1000_exits_filled_postgres", "under 1,000", f => Get(f, "exits.tick_to_1000_exits_filled_postgres"), v => v < 1_000, "ms"),
        new("intents.http_vs_in_process", "at least 0.3", f => Get(f, "intents.http_vs_in_process"), v => v >= 0.3, "x"),
        new("intents.http_p99_at_1000_per_s", "under 20", f => Get(f, "intents.http_p99_at_1000_per_s"), v => v < 20, "ms"),
        new("exits.bytes_per_open_position", "at most 4,096", f => Get(f, "exits.bytes_per_open_position"), v => v <= 4_096, "bytes"),
        new("history.page_ms_*", "under 100", f => f.Where(p => p.Key.StartsWith("history.page_ms_", StringComparison.Ordinal)).Select(p => (double?)p.Value).FirstOrDefault(), v => v < 100, "ms"),
    ];

    /// <summary>Prints the table for the goals whose benchmark ran in this process; the others say "not run".</summary>
    public static void PrintTable(IReadOnlyDictionary<string, double> figures)
    {
        Console.WriteLine();
        Console.WriteLine("| figure | goal | measured | |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var goal in All)
        {
            var measured = goal.Measured(figures);
            var cell = measured is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v:0.###} {goal.Unit}") : "not run";
            var verdict = measured is { } m ? (goal.Met(m) ? "met" : "not met") : "";
            Console.WriteLine($"| `{goal.Name}` | {goal.Text} {goal.Unit} | {cell} | {verdict} |");
        }
    }
}
