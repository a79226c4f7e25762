using AgentDesk.Benchmarks.Signatures;

// ./bench.sh [name]: runs one benchmark by name, or all of them.
var benchmarks = new Dictionary<string, Func<Task>>(StringComparer.OrdinalIgnoreCase)
{
    ["signatures"] = () => SignatureBenchmark.RunAsync(),
    ["fanout"] = () => AgentDesk.Benchmarks.Fanout.FanoutBenchmark.RunAsync(),
    ["exits"] = () => AgentDesk.Benchmarks.Exits.ExitsBenchmark.RunAsync(),
    ["intents"] = () => AgentDesk.Benchmarks.Intents.IntentsBenchmark.RunAsync(),
    ["chain"] = () => AgentDesk.Benchmarks.Chain.ChainBenchmark.RunAsync(),
    ["events"] = () => AgentDesk.Benchmarks.Events.EventsBenchmark.RunAsync(),
    ["history"] = () => AgentDesk.Benchmarks.History.HistoryBenchmark.RunAsync(),
    // Last: its clusters leave a large heap, and no goal depends on it.
    ["batches"] = () => AgentDesk.Benchmarks.Fanout.RepeatedBatchesBenchmark.RunAsync(),
};

var selected = args.Length == 0 ? benchmarks.Keys.ToArray() : args;
foreach (var name in selected)
{
    if (!benchmarks.TryGetValue(name, out var run))
    {
        Console.Error.WriteLine($"Unknown benchmark '{name}'. Known: {string.Join(", ", benchmarks.Keys)}");
        return 2;
    }
    Console.WriteLine($"# {name}");
    await run();
    // The next benchmark starts on a quiet machine: the last one's cluster collected, the database's background work done.
    GC.Collect();
    GC.WaitForPendingFinalizers();
    if (selected.Length > 1) await Task.Delay(TimeSpan.FromSeconds(5));
}
AgentDesk.Benchmarks.Goals.PrintTable(AgentDesk.Benchmarks.Report.Recorded);
return 0;
