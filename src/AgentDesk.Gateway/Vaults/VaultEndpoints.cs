using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using AgentDesk.Contracts.Access;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Vaults;

/// <param name="CapitalUsdc">The USDC the vault holds for its agents; allocations together stay within it. Only the admin or a risk key may set it.</param>
/// <param name="AdminSignature">On a chain: the EIP-712 <c>VaultClaim</c> for this organisation and vault id, signed by an admin of the vault contract (docs/venues.md).</param>
public sealed record CreateVaultRequest([property: Required] string? VaultId, [property: Required] string? Address, string? Name, string? CapitalUsdc,
    string? AdminSignature) : IRequestBody;
public sealed record VaultTokenRequest([property: Required] string? Address, [property: Required] int? Decimals) : IRequestBody;
public sealed record VaultCapitalRequest([property: Required] string? CapitalUsdc) : IRequestBody;
public sealed record VaultTokensResponse(string VaultId, string Address, IReadOnlyList<VaultToken> Tokens);

/// <summary>Vaults of the caller's organisation and their allowlists (docs/api.md, "Vaults").</summary>
public static class VaultEndpoints
{
    public const int MaxNameLength = 200;

    public static void MapVaultEndpoints(this IEndpointRouteBuilder app)
    {
        var vaults = app.MapGroup("/api/v1/vaults").WithTags("Vaults");
        vaults.MapPost("", CreateAsync).RequireAuthorization(Policies.Operator).WithName("createVault").WithSummary("Create a vault")
            .ProducesErrors(Errors.InvalidVaultId, Errors.InvalidAddress, Errors.InvalidName, Errors.InvalidAmount, Errors.VaultExists, Errors.VaultAddressTaken, Errors.NotAContract,
                Errors.InvalidSignature, Errors.NotVaultAdmin, Errors.VenueUnavailable);
        vaults.MapGet("/{vaultId}", GetAsync).RequireAuthorization(Policies.Operator).WithName("getVault").WithSummary("A vault: capital, allowlist, allocations")
            .ProducesErrors(Errors.VaultNotFound);
        vaults.MapPut("/{vaultId}/tokens/{symbol}", SetTokenAsync).RequireAuthorization(Policies.Operator).WithName("setVaultToken")
            .WithSummary("Allow a token in the vault (one address has one symbol; a held token keeps its address and decimals)")
            .ProducesErrors(Errors.VaultNotFound, Errors.InvalidSymbol, Errors.InvalidAddress, Errors.InvalidDecimals, Errors.TokenAlreadyListed, Errors.TokenInUse,
                Errors.NotAContract, Errors.VenueUnavailable);
        vaults.MapPut("/{vaultId}/capital", SetCapitalAsync).RequireAuthorization(Policies.Risk).WithName("setVaultCapital")
            .WithSummary("Set the vault's capital (admin, risk)").ProducesErrors(Errors.VaultNotFound, Errors.InvalidAmount, Errors.AllocationExceedsCapital);
        app.MapGet("/vaults/{vaultId}/tokens", TokensAsync).AllowAnonymous().WithTags("Vaults").WithName("listVaultTokens")
            .WithSummary("The vault's allowlist (public)").ProducesErrors(Errors.VaultNotFound);
    }

    private static async Task<Results<Ok<VaultView>, ProblemHttpResult>> CreateAsync(CreateVaultRequest request, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!VaultRules.IsValidVaultId(request.VaultId))
            return ApiProblems.For(Errors.InvalidVaultId, $"vaultId is 1 to {VaultRules.MaxVaultIdLength} letters, digits, '-' or '_'.");
        if (request.Name?.Length > MaxNameLength) return ApiProblems.For(Errors.InvalidName, $"name is at most {MaxNameLength} characters.");
        var capital = 0m;
        if (request.CapitalUsdc is not null)
        {
            if (!user.IsAdmin() && user.Role() != ApiKeyRoles.Risk)
                return ApiProblems.For(Errors.Forbidden, "Only the admin or a risk key sets a vault's capital.");
            var parsed = Money.ParseAmount(request.CapitalUsdc, "capitalUsdc");
            if (!parsed.IsSuccess) return ApiProblems.For(parsed.Rejection!);
            capital = parsed.Value;
        }
        return ApiResults.Of(await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(request.VaultId))
            .CreateAsync(request.Address ?? "", request.Name ?? request.VaultId, user.Organization(), capital, request.AdminSignature));
    }

    private static async Task<Results<Ok<VaultView>, ProblemHttpResult>> GetAsync(string vaultId, ClaimsPrincipal user, IClusterClient cluster)
    {
        var (_, view) = await VisibleAsync(vaultId, user, cluster);
        return view is null ? NotFound(vaultId) : TypedResults.Ok(view);
    }

    private static async Task<Results<Ok<VaultView>, ProblemHttpResult>> SetTokenAsync(string vaultId, string symbol, VaultTokenRequest request,
        ClaimsPrincipal user, IClusterClient cluster)
    {
        var (vault, view) = await VisibleAsync(vaultId, user, cluster);
        if (view is null) return NotFound(vaultId);
        if (request.Decimals is not { } decimals) return ApiProblems.For(Errors.InvalidDecimals, "decimals is required.");
        return ApiResults.Of(await vault.SetTokenAsync(symbol, request.Address ?? "", decimals));
    }

    private static async Task<Results<Ok<VaultView>, ProblemHttpResult>> SetCapitalAsync(string vaultId, VaultCapitalRequest request, ClaimsPrincipal user,
        IClusterClient cluster)
    {
        var (vault, view) = await VisibleAsync(vaultId, user, cluster);
        if (view is null) return NotFound(vaultId);
        var capital = Money.ParseAmount(request.CapitalUsdc, "capitalUsdc");
        if (!capital.IsSuccess) return ApiProblems.For(capital.Rejection!);
        return ApiResults.Of(await vault.SetCapitalAsync(capital.Value));
    }

    private static async Task<Results<Ok<VaultTokensResponse>, ProblemHttpResult>> TokensAsync(string vaultId, IClusterClient cluster)
    {
        if (!ClientIds.IsValid(vaultId)) return NotFound(vaultId);
        var view = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId)).GetAsync();
        return view is null ? NotFound(vaultId) : TypedResults.Ok(new VaultTokensResponse(view.VaultId, view.Address, view.Tokens));
    }

    /// <summary>The vault if the caller's organisation owns it (or the caller is the admin); another organisation's vault is not found.</summary>
    private static async Task<(IVaultGrain Vault, VaultView? View)> VisibleAsync(string vaultId, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!ClientIds.IsValid(vaultId)) return (null!, null);
        var vault = cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId));
        var view = await vault.GetAsync();
        return (vault, view is not null && user.CanSee(view.Organization) ? view : null);
    }

    private static ProblemHttpResult NotFound(string vaultId) => ApiProblems.For(Errors.VaultNotFound, $"Vault {AgentLookup.Truncate(vaultId)} does not exist.");
}
