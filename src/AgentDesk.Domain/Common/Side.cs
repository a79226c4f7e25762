namespace AgentDesk.Domain.Common;

/// <summary>LONG profits when the price rises, SHORT when it falls.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "LONG and SHORT are the trading terms the API uses.")]
public enum Side
{
    Long = 1,
    Short = -1,
}

public static class SideExtensions
{
    public static int Sign(this Side side) => (int)side;

    /// <summary>The API's spelling: LONG or SHORT.</summary>
    public static string ToWire(this Side side) => side == Side.Long ? "LONG" : "SHORT";

    public static Side? Parse(string? text) => text?.ToUpperInvariant() switch
    {
        "LONG" => Side.Long,
        "SHORT" => Side.Short,
        _ => null,
    };
}
