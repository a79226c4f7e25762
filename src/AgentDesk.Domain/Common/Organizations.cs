namespace AgentDesk.Domain.Common;

/// <summary>
/// Organisation names: 1 to 64 letters, digits, '.', '-' or '_'. Every resource belongs to one; the name is part
/// of the keys of organisation-scoped grains (accounts, fee ledgers, event logs), so it may not contain ':'.
/// </summary>
public static class Organizations
{
    public const int MaxLength = 64;

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? organization) =>
        !string.IsNullOrEmpty(organization) && organization.Length <= MaxLength
        && organization.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');
}

/// <summary>Identifiers chosen by clients (vault ids, deposit ids, idempotency keys): 1 to 128 printable ASCII characters.</summary>
public static class ClientIds
{
    public const int MaxLength = 128;

    public static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= MaxLength && id.All(c => c is > ' ' and <= '~');
}
