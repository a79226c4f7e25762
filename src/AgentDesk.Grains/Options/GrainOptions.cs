using System.ComponentModel.DataAnnotations;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Prices;
using AgentDesk.Domain.Sizing;

namespace AgentDesk.Grains.Options;

/// <summary>Platform risk caps (section <c>AgentDesk:Risk</c>; docs/security.md).</summary>
public sealed class RiskOptions
{
    public const string Section = "AgentDesk:Risk";

    /// <summary>The largest FLAT fee an agent may charge per trade, in USDC.</summary>
    [Range(0, 1_000_000)]
    public decimal MaxFlatFeeUsdc { get; set; } = FeeCaps.Default.MaxFlatFeeUsdc;

    /// <summary>The largest BPS fee an agent may charge, in bps of notional.</summary>
    [Range(0, 10_000)]
    public int MaxFeeBps { get; set; } = FeeCaps.Default.MaxFeeBps;

    /// <summary>The largest share of a trade's collateral that all its fees together may take, in bps.</summary>
    [Range(0, 10_000)]
    public int MaxFeeShareBps { get; set; } = FeeCaps.Default.MaxFeeShareBps;

    public FeeCaps FeeCaps => new(MaxFlatFeeUsdc, MaxFeeBps, MaxFeeShareBps);
}

/// <summary>Price settings (section <c>AgentDesk:Prices</c>; docs/domain.md, "Prices").</summary>
public sealed class PriceOptions
{
    public const string Section = "AgentDesk:Prices";

    /// <summary>A tick further than this from the last accepted price is held until confirmed.</summary>
    [Range(1, 1_000_000)]
    public int MaxJumpBps { get; set; } = PricePolicy.Default.MaxJumpBps;

    /// <summary>New trades refuse a price older than this; exits keep evaluating it.</summary>
    [Range(1, 31_536_000)]
    public int MaxAgeSeconds { get; set; } = (int)PricePolicy.Default.MaxAge.TotalSeconds;

    /// <summary>The chain's native asset: "native" amounts are USD divided by its price.</summary>
    [Required, RegularExpression("^[A-Za-z0-9]{1,16}$")]
    public string NativeSymbol { get; set; } = "ETH";

    /// <summary>
    /// Where prices come from: <see cref="PriceSource.Oracle"/> (pushed to <c>/api/v1/prices</c>) or <see cref="PriceSource.Chain"/>
    /// (each silo reads the Chainlink-style feed of every token in <c>AgentDesk:Evm:Tokens</c> on every new block).
    /// </summary>
    public PriceSource Source { get; set; } = PriceSource.Oracle;

    /// <summary>With chain prices: how often the silo asks the node for a new block (and then reads the feeds).</summary>
    [Range(10, 60_000)]
    public int ChainPollMs { get; set; } = 1_000;

    public PricePolicy Policy => new(MaxJumpBps, TimeSpan.FromSeconds(MaxAgeSeconds));
}

/// <summary>Where prices come from (docs/venues.md, "Prices from the chain").</summary>
public enum PriceSource
{
    Oracle,
    Chain,
}

/// <summary>Batch fan-out settings (section <c>AgentDesk:Batches</c>).</summary>
public sealed class BatchOptions
{
    public const string Section = "AgentDesk:Batches";

    /// <summary>Subscribers handled at once; their outcomes are checkpointed as the batch goes.</summary>
    [Range(1, 100_000)]
    public int Parallelism { get; set; } = 500;

    /// <summary>
    /// Outcomes per stored page: a checkpoint writes the pages that filled since the last one and the batch's row with the
    /// rest, so its cost is what is new, not the whole batch so far (a page of 1,000 is about 650 KB of JSON).
    /// </summary>
    [Range(1, 100_000)]
    public int OutcomesPerPage { get; set; } = 1_000;

    /// <summary>Token decimals for batch (perpetual) positions, whose size is synthetic.</summary>
    [Range(0, 18)]
    public int PositionDecimals { get; set; } = 8;

    /// <summary>Leverage bounds: a default maximum and maxima per symbol.</summary>
    [Range(1.1, 1000)]
    public decimal DefaultMaxLeverage { get; set; } = LeveragePolicy.Default.DefaultMaximum;

    public Dictionary<string, decimal> MaxLeverageBySymbol { get; set; } = new(LeveragePolicy.Default.MaximumBySymbol, StringComparer.OrdinalIgnoreCase);

    public LeveragePolicy Leverage => new(DefaultMaxLeverage, MaxLeverageBySymbol);
}

/// <summary>The EIP-712 domain intents are verified under (section <c>AgentDesk:Intents</c>).</summary>
public sealed class IntentDomainOptions
{
    public const string Section = "AgentDesk:Intents";

    [Required]
    public string Name { get; set; } = Eip712Domain.DefaultName;

    [Required]
    public string Version { get; set; } = Eip712Domain.DefaultVersion;

    [Range(1, long.MaxValue)]
    public long ChainId { get; set; } = 42161;

    /// <summary>The TradeRouter address (the first contract anvil deploys, until a real one is configured).</summary>
    [Required, RegularExpression("^0x[0-9a-fA-F]{40}$")]
    public string VerifyingContract { get; set; } = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

    public Eip712Domain ToDomain() => new(Name, Version, ChainId, VerifyingContract.ToLowerInvariant());
}

/// <summary>
/// How soon unfinished work is retried (section <c>AgentDesk:Retries</c>): a message not yet confirmed is re-sent by a timer
/// every <see cref="ResendSeconds"/>; a batch, an outbox or a pending venue order left by a crashed activation is picked up by
/// a reminder every <see cref="ReminderSeconds"/>.
/// </summary>
public sealed class RetryOptions
{
    public const string Section = "AgentDesk:Retries";

    [Range(1, 3_600)]
    public int ResendSeconds { get; set; } = 5;

    [Range(1, 86_400)]
    public int ReminderSeconds { get; set; } = 60;

    public TimeSpan Resend => TimeSpan.FromSeconds(ResendSeconds);
    public TimeSpan Reminder => TimeSpan.FromSeconds(ReminderSeconds);
}
