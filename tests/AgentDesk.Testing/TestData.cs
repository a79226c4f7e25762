using Nethereum.Signer;

namespace AgentDesk.Testing;

/// <summary>Fresh identities for each test, so tests sharing a cluster never touch each other's state.</summary>
public static class TestData
{
    public static string NewAddress() => "0x" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N")[..8];

    public static string NewSymbol() => "T" + Guid.NewGuid().ToString("N")[..7].ToUpperInvariant();

    public static string NewOrganization(string prefix = "Org") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 64)];

    /// <summary>A new secp256k1 key and its address (lower case).</summary>
    public static (string PrivateKey, string Address) NewKey()
    {
        var key = EthECKey.GenerateKey();
        return (key.GetPrivateKey(), key.GetPublicAddress().ToLowerInvariant());
    }
}
