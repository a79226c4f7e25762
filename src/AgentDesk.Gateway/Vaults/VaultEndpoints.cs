using System.Security.Claims;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Vaults;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Vaults;

public sealed record CreateVaultRequest(string? VaultId, string? Address, string? Name);
public sealed record VaultTokenRequest(string? Address, int? Decimals);
public sealed record VaultTokensResponse(string VaultId, string Address, IReadOnlyList<VaultToken> Tokens);

public static class VaultEndpoints
{
    public static void MapVaultEndpoints(this IEndpointRouteBuilder app)
    {
        var vaults = app.MapGroup("/api/v1/vaults").RequireAuthorization(Policies.Operator).WithTags("Vaults");
        vaults.MapPost("", CreateAsync).Accepts<CreateVaultRequest>("application/json").Produces<VaultView>().WithSummary("Create a vault");
        vaults.MapPut("/{vaultId}/tokens/{symbol}", SetTokenAsync).Accepts<VaultTokenRequest>("application/json").Produces<VaultView>()
            .WithSummary("Allow a token in the vault");
        app.MapGet("/vaults/{vaultId}/tokens", TokensAsync).WithTags("Vaults").Produces<VaultTokensResponse>().ProducesProblem(404)
            .WithSummary("The vault's allowlist (seed 002, public)");
    }

    private static async Task<IResult> CreateAsync(HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var body = await Json.ReadAsync<CreateVaultRequest>(http);
        if (body.Error is not null) return body.Error;
        var request = body.Value!;
        if (string.IsNullOrWhiteSpace(request.VaultId) || request.VaultId.Length > 64 || request.VaultId.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
            return Problems.Result("invalid_vault_id", "vaultId is 1 to 64 letters, digits, '-' or '_'.");
        var existing = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(request.VaultId)).GetAsync();
        if (existing is not null && !user.CanSee(existing.Organization))
            return Problems.Result("vault_exists", $"Vault {request.VaultId} already exists.");
        var result = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(request.VaultId)).CreateAsync(request.Address ?? "", request.Name ?? request.VaultId, user.Organization());
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> SetTokenAsync(string vaultId, string symbol, HttpRequest http, ClaimsPrincipal user, IClusterClient cluster)
    {
        var vault = cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId));
        var view = await vault.GetAsync();
        if (view is null || !user.CanSee(view.Organization)) return Problems.Result("vault_not_found", $"Vault {vaultId} does not exist.");
        var body = await Json.ReadAsync<VaultTokenRequest>(http);
        if (body.Error is not null) return body.Error;
        if (body.Value!.Decimals is not { } decimals) return Problems.Result("invalid_decimals", "decimals is required.");
        var result = await vault.SetTokenAsync(symbol, body.Value.Address ?? "", decimals);
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> TokensAsync(string vaultId, IClusterClient cluster)
    {
        var view = await cluster.GetGrain<IVaultGrain>(GrainKeys.Vault(vaultId)).GetAsync();
        return view is null
            ? Problems.Result("vault_not_found", $"Vault {vaultId} does not exist.")
            : Results.Ok(new VaultTokensResponse(view.VaultId, view.Address, view.Tokens));
    }
}
