using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Prices;

/// <summary>Section <c>AgentDesk:Simulator</c>. Off by default; <c>Enabled=true</c> turns it on.</summary>
public sealed class PriceSimulatorOptions
{
    public const string Section = "AgentDesk:Simulator";

    public bool Enabled { get; set; }
    [System.ComponentModel.DataAnnotations.Range(10, 3_600_000)]
    public int IntervalMs { get; set; } = 1_000;

    /// <summary>Largest move per step, in bps of the price.</summary>
    [System.ComponentModel.DataAnnotations.Range(0, 1_000)]
    public int MaxStepBps { get; set; } = 50;

    public Dictionary<string, decimal> StartPrices { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ETH"] = 3_000m,
        ["SOL"] = 150m,
        ["BTC"] = 60_000m,
        ["NVDA"] = 130m,
    };
}

/// <summary>
/// A random walk per symbol pushed through the price feeds, so a single-node user sees exits fire without an
/// oracle. Symbols that already have a price continue from it.
/// </summary>
public sealed class PriceSimulator(IOptions<PriceSimulatorOptions> options, IClusterClient cluster, TimeProvider clock, ILogger<PriceSimulator> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled) return;
        await Task.Yield();
        var prices = new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase);
        foreach (var (symbol, start) in settings.StartPrices)
        {
            var latest = await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).GetLatestAsync();
            prices[symbol] = latest?.PriceUsd ?? start;
        }
        logger.LogInformation("Price simulator on: {Symbols} every {Interval} ms", string.Join(", ", prices.Keys), settings.IntervalMs);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(settings.IntervalMs), clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var symbol in prices.Keys.ToList())
            {
                var stepBps = (Random.Shared.NextDouble() * 2 - 1) * settings.MaxStepBps;
                prices[symbol] = Math.Round(prices[symbol] * (1 + (decimal)stepBps / 10_000m), 6);
                try
                {
                    await cluster.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(symbol)).PushAsync(prices[symbol], clock.GetUtcNow());
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning(e, "Simulated price for {Symbol} was not pushed", symbol);
                }
            }
        }
    }
}
