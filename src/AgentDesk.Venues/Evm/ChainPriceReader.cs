using System.Collections.Concurrent;
using System.Numerics;
using AgentDesk.Domain.Common;
using AgentDesk.Venues.Evm.Abi;
using Microsoft.Extensions.Options;

namespace AgentDesk.Venues.Evm;

/// <summary>One feed's latest round: the answer in USD, when it was updated (chain time), and the round's id.</summary>
public sealed record ChainPrice(string Symbol, decimal PriceUsd, DateTimeOffset UpdatedAt, BigInteger RoundId);

/// <summary>
/// Reads the Chainlink-style feed (<c>latestRoundData</c>, 8 decimals) of every token in <see cref="EvmOptions.Tokens"/>.
/// A token without a configured feed is priced by the feed the TokenRegistry lists for it.
/// </summary>
public sealed class ChainPriceReader(IOptions<EvmOptions> options) : IDisposable
{
    private readonly EvmOptions _options = options.Value;
    // Written by the parallel reads of one round: a concurrent dictionary, since a plain one may not be read while written.
    private readonly ConcurrentDictionary<string, string> _feeds = new(StringComparer.OrdinalIgnoreCase);
    private EvmChain? _chain;

    private EvmChain Chain => _chain ??= new EvmChain(_options.RpcUrl!, TimeSpan.FromSeconds(_options.RpcTimeoutSeconds));

    public Task<BigInteger> BlockNumberAsync(CancellationToken cancellationToken) => Chain.BlockNumberAsync(cancellationToken);

    /// <summary>The latest round of every feed; a feed with no positive answer is left out (trading on it is refused).</summary>
    public async Task<IReadOnlyList<ChainPrice>> ReadAsync(CancellationToken cancellationToken)
    {
        var reads = _options.Tokens.Select(async pair =>
        {
            var feed = await FeedAsync(pair.Key, pair.Value, cancellationToken);
            if (feed is null) return null;
            var round = await Chain.QueryAsync<LatestRoundDataFunction, RoundDataOutput>(feed, new LatestRoundDataFunction(), cancellationToken);
            if (round.Answer <= 0 || round.UpdatedAt <= 0) return null;
            return new ChainPrice(pair.Key.ToUpperInvariant(), Money.FromBaseUnits(round.Answer, 8),
                DateTimeOffset.FromUnixTimeSeconds((long)round.UpdatedAt), round.RoundId);
        });
        return (await Task.WhenAll(reads)).OfType<ChainPrice>().ToList();
    }

    private async Task<string?> FeedAsync(string symbol, EvmToken token, CancellationToken cancellationToken)
    {
        if (token.Feed is { } configured) return configured;
        if (_feeds.TryGetValue(symbol, out var known)) return known;
        var listed = await Chain.QueryValueAsync<FeedOfFunction, string>(_options.Registry!, new FeedOfFunction { Token = token.Address }, cancellationToken);
        if (Domain.Intents.EthAddress.IsValid(listed) && listed != "0x0000000000000000000000000000000000000000")
        {
            _feeds[symbol] = listed;
            return listed;
        }
        return null;
    }

    public void Dispose() => _chain?.Dispose();
}
