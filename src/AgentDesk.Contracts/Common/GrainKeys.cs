namespace AgentDesk.Contracts.Common;

/// <summary>
/// String grain keys. Every key carries a prefix: Orleans misreads keys made only of hex digits, and a
/// prefix makes the key's kind obvious in storage and logs. Addresses and symbols are normalised here
/// so that one (agent, account, token) can only ever map to one position grain.
/// </summary>
public static class GrainKeys
{
    public static string Account(string address) => $"acct:{address.ToLowerInvariant()}";

    public static string Position(Guid agentId, string account, string symbol) =>
        $"pos:{agentId:D}:{account.ToLowerInvariant()}:{symbol.ToUpperInvariant()}";

    public static string SubscriberPage(Guid agentId, int page) => $"subs:{agentId:D}:{page}";

    public static string Vault(string vaultId) => $"vault:{vaultId}";

    public static string FeeLedger(string feeAddress) => $"fees:{feeAddress.ToLowerInvariant()}";

    public static string PriceFeed(string symbol) => $"price:{symbol.ToUpperInvariant()}";

    public static string ExitWatch(string symbol, int page) => $"watch:{symbol.ToUpperInvariant()}:{page}";

    /// <summary>Splits an exit-watch page key into its symbol and page number.</summary>
    public static (string Symbol, int Page) ParseExitWatch(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 3 || parts[0] != "watch") throw new FormatException($"Not an exit-watch key: {key}");
        return (parts[1], int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Splits a position key into its parts.</summary>
    public static (Guid AgentId, string Account, string Symbol) ParsePosition(string key)
    {
        var parts = key.Split(':');
        if (parts.Length != 4 || parts[0] != "pos") throw new FormatException($"Not a position key: {key}");
        return (Guid.Parse(parts[1]), parts[2], parts[3]);
    }
}
