using System.Numerics;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Prices;
using AgentDesk.Grains.Options;
using AgentDesk.Venues.Evm;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentDesk.Grains.Prices;

/// <summary>
/// With <c>AgentDesk:Prices:Source=Chain</c>, asks the node for its block number every <see cref="PriceOptions.ChainPollMs"/>
/// and, on a new block, reads every token's feed; a new round is pushed to the symbol's price feed grain like an oracle
/// tick, stamped with the feed's <c>updatedAt</c>. So a feed that stops updating goes stale and trading on it is refused
/// (<c>stale_price</c>), exactly as with pushed prices. Every silo runs one; the feed grain ignores a round it already has.
/// </summary>
public sealed class ChainPriceSource(ChainPriceReader reader, IGrainFactory grains, IOptions<PriceOptions> options, ILogger<ChainPriceSource> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Source != PriceSource.Chain) return;
        var rounds = new Dictionary<string, BigInteger>(StringComparer.Ordinal);
        var lastBlock = BigInteger.MinusOne;
        var failures = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.ChainPollMs));
        do
        {
            try
            {
                var block = await reader.BlockNumberAsync(stoppingToken);
                if (block == lastBlock) continue;
                foreach (var price in await reader.ReadAsync(stoppingToken))
                {
                    if (rounds.TryGetValue(price.Symbol, out var round) && round == price.RoundId) continue;
                    var pushed = await grains.GetGrain<IPriceFeedGrain>(GrainKeys.PriceFeed(price.Symbol)).PushAsync(price.PriceUsd, price.UpdatedAt);
                    if (!pushed.IsSuccess) logger.LogWarning("The {Symbol} feed's price {Price} was refused: {Problem}", price.Symbol, price.PriceUsd, pushed.Problem);
                    rounds[price.Symbol] = price.RoundId;
                }
                lastBlock = block;
                failures = 0;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The node or the cluster is not answering (yet): try again on the next tick, without flooding the log.
                if (failures++ % 60 == 0) logger.LogWarning(e, "Reading chain prices failed ({Failures} in a row)", failures);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
