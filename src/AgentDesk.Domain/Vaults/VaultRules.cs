using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Domain.Vaults;

/// <summary>
/// Vault rules (docs/domain.md, "Vaults"). A signed intent names a token by address while the feed it trades on
/// is chosen by symbol, so within a vault one address has exactly one symbol; a token held by an open position
/// keeps its address and decimals; the agents' allocations together stay within the vault's capital.
/// </summary>
public static class VaultRules
{
    public const int MaxTokenDecimals = 18;
    public const int MaxVaultIdLength = 64;

    /// <summary>A vault id: 1 to 64 letters, digits, '-' or '_' (ids are global, and name the public allowlist's URL).</summary>
    public static bool IsValidVaultId([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? vaultId) =>
        !string.IsNullOrEmpty(vaultId) && vaultId.Length <= MaxVaultIdLength && vaultId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
    public const int MaxTokens = 256;

    public static Rejection? CheckToken(IReadOnlyCollection<VaultToken> listed, string symbol, string address, int decimals, bool symbolHeldByOpenPosition)
    {
        if (!Symbols.IsValid(symbol)) return new Rejection(Errors.InvalidSymbol, "A symbol is 1 to 16 letters or digits.");
        if (!EthAddress.IsValid(address)) return new Rejection(Errors.InvalidAddress, $"address must be 0x followed by 40 hex digits; got '{address}'.");
        if (decimals is < 0 or > MaxTokenDecimals) return new Rejection(Errors.InvalidDecimals, $"decimals must be between 0 and {MaxTokenDecimals}.");
        var other = listed.FirstOrDefault(t => EthAddress.AreEqual(t.Address, address) && !string.Equals(t.Symbol, symbol, StringComparison.OrdinalIgnoreCase));
        if (other is not null)
            return new Rejection(Errors.TokenAlreadyListed, $"Token {address} is already listed as {other.Symbol}; one address has one symbol in a vault.")
                .With("symbol", other.Symbol);
        var current = listed.FirstOrDefault(t => string.Equals(t.Symbol, symbol, StringComparison.OrdinalIgnoreCase));
        var changes = current is not null && (!EthAddress.AreEqual(current.Address, address) || current.Decimals != decimals);
        if (changes && symbolHeldByOpenPosition)
            return new Rejection(Errors.TokenInUse, $"{symbol} is held by an open position; its address and decimals cannot change until it closes.");
        if (current is null && listed.Count >= MaxTokens) return new Rejection(Errors.InvalidSymbol, $"A vault lists at most {MaxTokens} tokens.");
        return null;
    }

    /// <summary>The sum of allocations, with <paramref name="agentId"/>'s replaced by <paramref name="allocationUsdc"/>, stays within the capital.</summary>
    public static Rejection? CheckAllocation(decimal capitalUsdc, IReadOnlyDictionary<Guid, decimal> allocations, Guid agentId, decimal allocationUsdc)
    {
        if (allocationUsdc < 0 || allocationUsdc > Money.MaxBalanceUsdc)
            return new Rejection(Errors.InvalidAmount, $"allocationUsdc must be between 0 and {Money.MaxBalanceUsdc}.");
        if (Money.SignificantScale(allocationUsdc) > Money.UsdcDecimals) return new Rejection(Errors.InvalidAmount, "allocationUsdc has more than 6 decimal places.");
        var others = allocations.Where(a => a.Key != agentId).Sum(a => a.Value);
        return others + allocationUsdc <= capitalUsdc
            ? null
            : new Rejection(Errors.AllocationExceedsCapital,
                    $"Allocations would total {others + allocationUsdc} USDC; vault capital is {capitalUsdc} USDC.")
                .With("capitalUsdc", capitalUsdc).With("availableUsdc", Math.Max(0m, capitalUsdc - others));
    }

    public static Rejection? CheckCapital(decimal capitalUsdc, IReadOnlyDictionary<Guid, decimal> allocations)
    {
        if (capitalUsdc < 0 || capitalUsdc > Money.MaxBalanceUsdc)
            return new Rejection(Errors.InvalidAmount, $"capitalUsdc must be between 0 and {Money.MaxBalanceUsdc}.");
        if (Money.SignificantScale(capitalUsdc) > Money.UsdcDecimals) return new Rejection(Errors.InvalidAmount, "capitalUsdc has more than 6 decimal places.");
        var allocated = allocations.Values.Sum();
        return allocated <= capitalUsdc
            ? null
            : new Rejection(Errors.AllocationExceedsCapital, $"Agents already hold allocations of {allocated} USDC, above {capitalUsdc}.")
                .With("allocatedUsdc", allocated);
    }
}
