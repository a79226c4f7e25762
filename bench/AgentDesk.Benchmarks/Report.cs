using System.Diagnostics;
using System.Globalization;

namespace AgentDesk.Benchmarks;

/// <summary>Prints figures as `name: value unit`, one per line, and times loops.</summary>
public static class Report
{
    /// <summary>Every figure printed in this run, by name (a repeated figure by its median): the goals table reads them.</summary>
    public static readonly Dictionary<string, double> Recorded = new(StringComparer.Ordinal);

    public static void Figure(string name, double value, string unit)
    {
        Recorded[name] = value;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: {value:0.###} {unit}"));
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// Prints the median of repetitions as the figure, with their min and max and every value in the order measured:
    /// `name: median unit (min …, max …, n=N; in order …)`; returns the median.
    /// </summary>
    public static double Repeated(string name, IReadOnlyList<double> values, string unit)
    {
        var sorted = values.Order().ToList();
        var median = Median(sorted);
        Recorded[name] = median;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {median:0.###} {unit} (min {sorted[0]:0.###}, max {sorted[^1]:0.###}, n={sorted.Count}; in order {string.Join(", ", values.Select(v => v.ToString("0.###", CultureInfo.InvariantCulture)))})"));
        return median;
    }

    /// <summary>Repeated figures collected by name, one value per repetition, printed with <see cref="Repeated"/> in the order first added.</summary>
    public sealed class RepeatedFigures
    {
        private readonly List<(string Name, string Unit, List<double> Values)> _figures = [];

        public void Add(string name, double value, string unit)
        {
            var index = _figures.FindIndex(f => f.Name == name);
            if (index < 0) _figures.Add((name, unit, [value]));
            else _figures[index].Values.Add(value);
        }

        public void ReportAll()
        {
            foreach (var (name, unit, values) in _figures) Repeated(name, values, unit);
        }
    }

    /// <summary>Runs <paramref name="operation"/> round-robin over inputs for about <paramref name="duration"/>; returns operations per second.</summary>
    public static double Throughput(Action<int> operation, int inputs, TimeSpan duration)
    {
        for (var i = 0; i < Math.Min(inputs, 50); i++) operation(i); // warm-up and JIT
        var watch = Stopwatch.StartNew();
        long count = 0;
        while (watch.Elapsed < duration)
        {
            for (var i = 0; i < 20; i++) operation((int)(count++ % inputs));
        }
        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Pins the process to the first core so per-core figures are per core, until the result is disposed. The other
    /// benchmarks run in the same process afterwards and must get every core back (a full run once measured them all on one).
    /// </summary>
    public static IDisposable PinToOneCore()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsWindows()) return new Restore(null);
        var process = Process.GetCurrentProcess();
        var all = process.ProcessorAffinity;
        process.ProcessorAffinity = 1;
        return new Restore(all);
    }

    private sealed class Restore(nint? affinity) : IDisposable
    {
        public void Dispose()
        {
            if (affinity is { } mask && (OperatingSystem.IsLinux() || OperatingSystem.IsWindows()))
                Process.GetCurrentProcess().ProcessorAffinity = mask;
        }
    }
}
