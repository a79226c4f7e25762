using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AgentDesk.Gateway.Accounts;

public sealed record CreateAccountRequest([property: Required] string? SmartAccount) : IRequestBody;

/// <param name="DepositId">Optional; repeating it with the same amount credits nothing more (safe retries), with another amount is a 409. Defaults to the Idempotency-Key header.</param>
public sealed record DepositRequest([property: Required] string? Amount, string? DepositId) : IRequestBody;

/// <summary>
/// Subscriber accounts of the caller's organisation (docs/api.md, "Accounts"). An account belongs to the organisation
/// that created it; the same address in another organisation is another account.
/// </summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").RequireAuthorization(Policies.Operator).WithTags("Accounts").ProducesErrors(Errors.InvalidAddress);
        accounts.MapPost("", CreateAsync).WithName("createAccount").WithSummary("Create a subscriber account (creating an existing one changes nothing)");
        accounts.MapPost("/{smartAccount}/deposits", DepositAsync).WithName("deposit").WithSummary("Credit USDC collateral (paper venue)")
            .ProducesErrors(Errors.AccountNotFound, Errors.InvalidAmount, Errors.AmountTooLarge, Errors.InvalidId, Errors.IdempotencyConflict);
        accounts.MapGet("/{smartAccount}", GetAsync).WithName("getAccount").WithSummary("Balances, locked collateral, subscriptions and open positions")
            .ProducesErrors(Errors.AccountNotFound);
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> CreateAsync(CreateAccountRequest request, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(request.SmartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", request.SmartAccount);
        return TypedResults.Ok(await Account(cluster, user, request.SmartAccount).CreateAsync());
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> DepositAsync(string smartAccount, DepositRequest request,
        [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(smartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", smartAccount);
        var amount = Money.ParseAmount(request.Amount, "amount");
        if (!amount.IsSuccess) return ApiProblems.For(amount.Rejection!);
        var depositId = request.DepositId ?? idempotencyKey ?? Guid.NewGuid().ToString("N");
        if (!ClientIds.IsValid(depositId))
            return ApiProblems.For(Errors.InvalidId, $"depositId (or Idempotency-Key) is 1 to {ClientIds.MaxLength} printable characters.");
        return ApiResults.Of(await Account(cluster, user, smartAccount).DepositAsync(depositId, amount.Value));
    }

    private static async Task<Results<Ok<AccountView>, ProblemHttpResult>> GetAsync(string smartAccount, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(smartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", smartAccount);
        var account = await Account(cluster, user, smartAccount).GetAsync();
        return account is null ? ApiProblems.For(Errors.AccountNotFound, $"Account {smartAccount} does not exist.") : TypedResults.Ok(account);
    }

    private static ISubscriberGrain Account(IClusterClient cluster, ClaimsPrincipal user, string address) =>
        cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(user.Organization(), address));
}
