using AgentDesk.Domain.Intents;

namespace AgentDesk.Grains.Intents;

/// <summary>The EIP-712 domain intents are verified under. Section <c>AgentDesk:Intents</c>.</summary>
public sealed class IntentDomainOptions
{
    public string Name { get; set; } = Eip712Domain.DefaultName;
    public string Version { get; set; } = Eip712Domain.DefaultVersion;
    public long ChainId { get; set; } = 42161;

    /// <summary>The TradeRouter address (the first contract anvil deploys, until a real one is configured).</summary>
    public string VerifyingContract { get; set; } = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

    public Eip712Domain ToDomain() => new(Name, Version, ChainId, VerifyingContract.ToLowerInvariant());
}
