namespace AgentDesk.Domain.Common;

/// <summary>Token symbols ("SOL", "NVDA"): 1 to 16 ASCII letters or digits, compared and stored upper case.</summary>
public static class Symbols
{
    public const int MaxLength = 16;

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? symbol) =>
        !string.IsNullOrEmpty(symbol) && symbol.Length <= MaxLength && symbol.All(char.IsAsciiLetterOrDigit);
}
