namespace AgentDesk.Grains.Infrastructure;

/// <summary>
/// The grain storage provider and the state names. The ADO.NET provider keys rows by service id + state
/// name + grain key, not by grain type, so every grain type has its own state name.
/// </summary>
public static class StorageNames
{
    public const string Provider = "agentdesk";
    public const string PubSub = "PubSubStore";

    public const string Agent = "agent";
    public const string SubscriberPage = "subscriberPage";
    public const string Account = "account";
    public const string Position = "position";
    public const string ManualClose = "manualClose";
    public const string Batch = "batch";
    public const string Vault = "vault";
    public const string VaultAddress = "vaultAddress";
    public const string FeeLedger = "feeLedger";
    public const string PriceFeed = "priceFeed";
    public const string PriceDirectory = "priceDirectory";
    public const string ExitWatch = "exitWatch";
    public const string ApiKeys = "apiKeys";
    public const string Webhook = "webhook";
    public const string WebhookDirectory = "webhookDirectory";
    public const string AgentDirectory = "agentDirectory";

    /// <summary>One of an exit-index page's stored parts (<c>ExitIndex.PartsPerPage</c>), each its own row.</summary>
    public static string ExitWatchPart(int part) => $"exitWatchPart{part.ToString(System.Globalization.CultureInfo.InvariantCulture)}";

    /// <summary>A page of a batch's outcomes (<c>BatchOutcomePage</c>), each its own row: the batch's id, the page's key as its extension.</summary>
    public const string BatchOutcomes = "batchOutcomes";
}
