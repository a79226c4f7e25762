namespace AgentDesk.Domain.Agents;

/// <summary>PERPETUAL agents trade leveraged longs and shorts; SWAP agents buy and sell spot (leverage 1, no shorts).</summary>
public enum AgentType
{
    Perpetual,
    Swap,
}

public static class AgentTypes
{
    public static AgentType? Parse(string? text) => text?.ToUpperInvariant() switch
    {
        null or "" or "PERPETUAL" => AgentType.Perpetual,
        "SWAP" => AgentType.Swap,
        _ => null,
    };

    public static string ToWire(this AgentType type) => type == AgentType.Swap ? "SWAP" : "PERPETUAL";
}
