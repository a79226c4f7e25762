using System.Globalization;

namespace AgentDesk.Contracts.Common;

/// <summary>
/// String grain keys. Every key carries a prefix: Orleans misreads keys made only of hex digits, and a prefix
/// makes the key's kind obvious in storage and logs. Addresses are lower-cased and symbols upper-cased here,
/// so one (agent, account, token) can only ever map to one position grain. Organisation-scoped resources
/// carry the organisation in their key, so tenancy is structural: another organisation's account is not
/// hidden, it is a different grain.
/// </summary>
public static class GrainKeys
{
    public static string Account(string organization, string address) => $"acct:{organization}:{address.ToLowerInvariant()}";

    public static string Position(Guid agentId, string account, string symbol) =>
        $"pos:{agentId:D}:{account.ToLowerInvariant()}:{symbol.ToUpperInvariant()}";

    /// <summary>A position's close by hand, named by the position's id (a UUID, which a closed position keeps).</summary>
    public static string ManualClose(Guid agentId, Guid positionId) => $"close:{agentId:D}:{positionId:D}";

    public static string SubscriberPage(Guid agentId, int page) => $"subs:{agentId:D}:{page.ToString(CultureInfo.InvariantCulture)}";

    public static string Vault(string vaultId) => $"vault:{vaultId}";

    public static string VaultAddress(string address) => $"vault-address:{address.ToLowerInvariant()}";

    public static string FeeLedger(string organization, string feeAddress) => $"fees:{organization}:{feeAddress.ToLowerInvariant()}";

    public static string PriceFeed(string symbol) => $"price:{symbol.ToUpperInvariant()}";

    public static string ExitWatch(string symbol, int page) => $"watch:{symbol.ToUpperInvariant()}:{page.ToString(CultureInfo.InvariantCulture)}";

    public static string EventLog(string organization) => $"events:{organization}";

    public static string Webhook(string organization, Guid webhookId) => $"webhook:{organization}:{webhookId:D}";

    public static string WebhookDirectory(string organization) => $"webhooks:{organization}";

    public static string AgentDirectory(string organization) => $"agents:{organization}";

    public const string ApiKeyDirectory = "apikeys";

    public const string PriceDirectory = "prices:directory";

    public const string OrganizationDirectory = "organizations";

    /// <summary>Splits an account key into its organisation and address.</summary>
    public static (string Organization, string Address) ParseAccount(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3 || parts[0] != "acct") throw new FormatException($"Not an account key: {key}");
        return (parts[1], parts[2]);
    }

    /// <summary>Splits an exit-watch page key into its symbol and page number.</summary>
    public static (string Symbol, int Page) ParseExitWatch(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3 || parts[0] != "watch") throw new FormatException($"Not an exit-watch key: {key}");
        return (parts[1], int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>Splits a position key into its parts.</summary>
    public static (Guid AgentId, string Account, string Symbol) ParsePosition(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 4 || parts[0] != "pos") throw new FormatException($"Not a position key: {key}");
        return (Guid.Parse(parts[1]), parts[2], parts[3]);
    }

    /// <summary>Splits a close-by-hand key into the agent's id and the position's.</summary>
    public static (Guid AgentId, Guid PositionId) ParseManualClose(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3 || parts[0] != "close") throw new FormatException($"Not a close-by-hand key: {key}");
        return (Guid.Parse(parts[1]), Guid.Parse(parts[2]));
    }

    /// <summary>Splits a webhook key into its organisation and id.</summary>
    public static (string Organization, Guid WebhookId) ParseWebhook(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3 || parts[0] != "webhook") throw new FormatException($"Not a webhook key: {key}");
        return (parts[1], Guid.Parse(parts[2]));
    }

    /// <summary>The part of a prefixed key after its prefix ("price:SOL" → "SOL").</summary>
    public static string After(string key, string prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : throw new FormatException($"'{key}' does not start with '{prefix}'.");
}
