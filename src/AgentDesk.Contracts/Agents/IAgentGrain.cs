using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Contracts.Agents;

/// <summary>
/// One registered agent (key: the agent's UUID). Owns registration, signer, fees, track, vault binding, the
/// intent book (nonce, deployed USDC, daily counters) and the index of its subscriber pages. Every intent for
/// the agent passes through it, so nonce order and limits hold under any concurrency.
/// </summary>
[Alias("agentdesk.agent")]
public interface IAgentGrain : IGrainWithGuidKey
{
    [Alias("register")]
    Task<Result<AgentProfile>> RegisterAsync(AgentRegistration registration);

    /// <summary>The agent's profile, or null when it was never registered.</summary>
    [Alias("profile")]
    Task<AgentProfile?> GetProfileAsync();

    /// <summary>Subscribes an account of the agent's own organisation (the account key carries it).</summary>
    [Alias("subscribe")]
    Task<Result<SubscriptionView>> SubscribeAsync(string account);

    [Alias("unsubscribe")]
    Task<Result<SubscriptionView>> UnsubscribeAsync(string account);

    /// <summary>How many subscriber pages exist (pages are numbered 0..count-1).</summary>
    [Alias("subscriber-pages")]
    Task<int> GetSubscriberPageCountAsync();

    [Alias("set-track")]
    Task<Result<AgentProfile>> SetTrackAsync(string track);

    [Alias("bind-vault")]
    Task<Result<AgentProfile>> BindVaultAsync(string vaultId, decimal allocationUsdc);

    /// <summary>Replaces the agent's EIP-712 signer: by the admin, or signed by the current signer (which spends a nonce).</summary>
    [Alias("rotate-signer")]
    Task<Result<AgentProfile>> RotateSignerAsync(SignerRotation rotation, bool byAdmin);

    /// <summary>The kill switch: a paused agent takes no batch and no intent; its open positions' exits keep running.</summary>
    [Alias("set-paused")]
    Task<Result<AgentProfile>> SetPausedAsync(bool paused, string by);

    /// <summary>
    /// Admits a signed intent (docs/intents.md) and carries it out on the vault's position for the symbol.
    /// Problems found before admission change nothing; once admitted the nonce stays consumed even if the venue refuses.
    /// </summary>
    [Alias("execute-intent")]
    Task<Result<IntentExecution>> ExecuteIntentAsync(IntentRequest request);

    /// <summary>The typed-data template, nonce, vault binding, headroom and exit bounds for the next intent.</summary>
    [Alias("quote")]
    Task<Result<IntentQuote>> QuoteAsync(IntentRequest draft);

    /// <summary>Symbols the agent has traded with intents (its vault positions).</summary>
    [Alias("intent-symbols")]
    Task<IReadOnlyList<string>> GetIntentSymbolsAsync();

    /// <summary>
    /// A vault position released margin and realised P/L: frees allocation and counts the day's loss.
    /// One-way from the position, idempotent on the settlement id, confirmed back to the position.
    /// </summary>
    [Orleans.Concurrency.OneWay, Alias("settle-vault-position")]
    Task SettleVaultPositionAsync(Settlement settlement);

    /// <summary>
    /// Batch <paramref name="batchId"/> says it has completed: it never sends a step again. The agent believes only the
    /// batch's stored status (one of its own batches, completed), so no other caller can make subscribers forget the
    /// answers of a batch still running. One-way, so a batch never waits on an agent busy with its intents; a report that
    /// is lost only leaves those answers to their count bounds. Idempotent.
    /// </summary>
    [Orleans.Concurrency.OneWay, Alias("batch-completed")]
    Task BatchCompletedAsync(Guid batchId);

    /// <summary>
    /// The agent's most recently completed batches on <paramref name="symbol"/>, which each new batch on it hands to its
    /// subscribers' accounts and positions: what they remember for those batches' steps can go, since nothing will retry them.
    /// </summary>
    [Alias("completed-batches")]
    Task<IReadOnlyList<Guid>> GetCompletedBatchesAsync(string symbol);
}

/// <summary>What <c>POST /agent/register</c> carries plus the signer for EIP-712 intents (docs/api.md).</summary>
[GenerateSerializer, Immutable, Alias("agentdesk.agent-registration")]
public sealed record AgentRegistration(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Description,
    [property: Id(2)] string? ImageUrl,
    [property: Id(3)] Domain.Agents.AgentType AgentType,
    [property: Id(4)] bool IsPublic,
    [property: Id(5)] IReadOnlyList<Domain.Agents.AgentFee> Fees,
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
    [property: Id(4)] Domain.Agents.AgentType AgentType,
    [property: Id(5)] bool IsPublic,
    [property: Id(6)] IReadOnlyList<Domain.Agents.AgentFee> Fees,
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
    [property: Id(17)] DateTimeOffset RegisteredAt,
    [property: Id(18)] bool Paused);

[GenerateSerializer, Immutable, Alias("agentdesk.subscription-view")]
public sealed record SubscriptionView(
    [property: Id(0)] Guid AgentId,
    [property: Id(1)] string Account,
    [property: Id(2)] bool Subscribed,
    [property: Id(3)] int SubscriberCount);
