using AgentDesk.Contracts.Common;

namespace AgentDesk.Contracts.Agents;

/// <summary>
/// One registered agent (key: the agent's UUID). Owns registration, signer, fees, track, vault binding,
/// nonce and daily counters, and the index of its subscriber pages. Every intent for the agent passes
/// through it, so nonce order and limits hold under any concurrency.
/// </summary>
[Alias("agentdesk.agent")]
public interface IAgentGrain : IGrainWithGuidKey
{
    [Alias("register")]
    Task<Result<AgentProfile>> RegisterAsync(AgentRegistration registration);

    /// <summary>The agent's profile, or null when it was never registered.</summary>
    [Alias("profile")]
    Task<AgentProfile?> GetProfileAsync();

    [Alias("subscribe")]
    Task<Result<SubscriptionView>> SubscribeAsync(string account);

    [Alias("unsubscribe")]
    Task<Result<SubscriptionView>> UnsubscribeAsync(string account);

    /// <summary>How many subscriber pages exist (pages are numbered 0..count-1).</summary>
    [Alias("subscriber-pages")]
    Task<int> GetSubscriberPageCountAsync();

    [Alias("subscriber-count")]
    Task<int> GetSubscriberCountAsync();

    [Alias("set-track")]
    Task<Result<AgentProfile>> SetTrackAsync(string track);

    [Alias("bind-vault")]
    Task<Result<AgentProfile>> BindVaultAsync(string vaultId, decimal allocationUsdc);

    /// <summary>
    /// Checks a signed intent — vault allowlist, EIP-712 signature, deadline, nonce, exit ladder against the
    /// track, track and allocation limits — and, if all pass, consumes the nonce and counts the trade.
    /// A rejected intent changes nothing.
    /// </summary>
    [Alias("admit-intent")]
    Task<Result<Intents.AdmittedIntent>> AdmitIntentAsync(Intents.IntentSubmission submission);

    [Alias("usage")]
    Task<AgentUsage> GetUsageAsync();

    /// <summary>
    /// Admits a signed intent and carries it out on the vault's position for the symbol (open, add, reduce or
    /// exit-ladder update). Problems found before admission change nothing; once admitted the nonce stays
    /// consumed even if the venue refuses.
    /// </summary>
    [Alias("execute-intent")]
    Task<Result<Intents.IntentExecution>> ExecuteIntentAsync(Intents.IntentSubmission submission);

    /// <summary>The typed-data template, nonce, vault binding, headroom and exit bounds for the next intent.</summary>
    [Alias("quote")]
    Task<Result<Intents.IntentQuote>> QuoteAsync(Intents.IntentSubmission draft);

    /// <summary>Symbols the agent has traded with intents (its vault positions).</summary>
    [Alias("intent-symbols")]
    Task<IReadOnlyList<string>> GetIntentSymbolsAsync();

    /// <summary>
    /// A vault position released margin and realised P/L: frees allocation and counts the day's loss.
    /// One-way from the position, idempotent on the settlement id, confirmed back to the position.
    /// </summary>
    [Orleans.Concurrency.OneWay, Alias("settle-vault-position")]
    Task SettleVaultPositionAsync(Accounts.Settlement settlement);
}

/// <summary>Today's counters and what the agent has deployed from its allocation.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.agent-usage")]
public sealed record AgentUsage(
    [property: Id(0)] long Nonce,
    [property: Id(1)] DateOnly Day,
    [property: Id(2)] decimal TurnoverUsdc,
    [property: Id(3)] decimal RealizedLossUsdc,
    [property: Id(4)] decimal DeployedUsdc,
    [property: Id(5)] decimal AllocationUsdc);

[GenerateSerializer, Immutable, Alias("agentdesk.agent-fee")]
public sealed record AgentFeeMessage(
    [property: Id(0)] string Partner,
    [property: Id(1)] decimal Fee,
    [property: Id(2)] string FeeAddress,
    [property: Id(3)] string Type);

/// <summary>What <c>POST /agent/register</c> carries (seed 003) plus the signer for EIP-712 intents.</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.agent-registration")]
public sealed record AgentRegistration(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Description,
    [property: Id(2)] string? ImageUrl,
    [property: Id(3)] string AgentType,
    [property: Id(4)] bool IsPublic,
    [property: Id(5)] IReadOnlyList<AgentFeeMessage> Fees,
    [property: Id(6)] string Organization,
    [property: Id(7)] string? SignerAddress,
    [property: Id(8)] string? OwnerId,
    [property: Id(9)] string? Manager);

[GenerateSerializer, Immutable, Alias("agentdesk.agent-profile")]
public sealed record AgentProfile(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] string? Name,
    [property: Id(2)] string? Description,
    [property: Id(3)] string? ImageUrl,
    [property: Id(4)] string AgentType,
    [property: Id(5)] bool IsPublic,
    [property: Id(6)] IReadOnlyList<AgentFeeMessage> Fees,
    [property: Id(7)] string Organization,
    [property: Id(8)] string? SignerAddress,
    [property: Id(9)] string? OwnerId,
    [property: Id(10)] string? Manager,
    [property: Id(11)] string QuorumId,
    [property: Id(12)] string Track,
    [property: Id(13)] string? VaultId,
    [property: Id(14)] decimal AllocationUsdc,
    [property: Id(15)] long Nonce,
    [property: Id(16)] int SubscriberCount,
    [property: Id(17)] DateTimeOffset RegisteredAt);

[GenerateSerializer, Immutable, Alias("agentdesk.subscription-view")]
public sealed record SubscriptionView(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] string Account,
    [property: Id(2)] bool Subscribed,
    [property: Id(3)] int SubscriberCount);

/// <summary>One page of an agent's subscriber list (key <c>subs:{agentId}:{page}</c>), at most <see cref="Capacity"/> accounts.</summary>
[Alias("agentdesk.subscriber-page")]
public interface ISubscriberPageGrain : IGrainWithStringKey
{
    public const int Capacity = 256;

    [Alias("add")]
    Task AddAsync(string account);

    [Alias("remove")]
    Task RemoveAsync(string account);

    [Alias("accounts")]
    Task<IReadOnlyList<string>> GetAccountsAsync();
}
