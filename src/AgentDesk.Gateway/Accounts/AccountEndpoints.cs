using AgentDesk.Contracts.Accounts;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Accounts;

public sealed record CreateAccountRequest(string? SmartAccount);

/// <param name="DepositId">Optional; a repeated id credits nothing more (safe retries). Defaults to the Idempotency-Key header, else a new id.</param>
public sealed record DepositRequest(string? Amount, string? DepositId);

public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        var accounts = app.MapGroup("/api/v1/accounts").RequireAuthorization(Policies.Operator).WithTags("Accounts");
        accounts.MapPost("", CreateAsync).Accepts<CreateAccountRequest>("application/json").Produces<AccountView>()
            .WithSummary("Create a subscriber account (creating an existing one changes nothing)");
        accounts.MapPost("/{smartAccount}/deposits", DepositAsync).Accepts<DepositRequest>("application/json").Produces<AccountView>().ProducesProblem(404)
            .WithSummary("Credit USDC collateral (paper venue)");
        accounts.MapGet("/{smartAccount}", GetAsync).Produces<AccountView>().ProducesProblem(404)
            .WithSummary("Balances, locked collateral, subscriptions and open positions");
    }

    private static async Task<IResult> CreateAsync(HttpRequest http, IClusterClient cluster)
    {
        var body = await Json.ReadAsync<CreateAccountRequest>(http);
        if (body.Error is not null) return body.Error;
        if (!EthAddress.IsValid(body.Value!.SmartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", body.Value.SmartAccount);
        return Results.Ok(await cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(body.Value.SmartAccount!)).CreateAsync());
    }

    private static async Task<IResult> DepositAsync(string smartAccount, HttpRequest http, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(smartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", smartAccount);
        var body = await Json.ReadAsync<DepositRequest>(http);
        if (body.Error is not null) return body.Error;
        var amount = Money.ParseAmount(body.Value!.Amount, "amount");
        if (!amount.IsSuccess) return Problems.Result(amount.Rejection!.Code, amount.Rejection.Message);
        var depositId = body.Value.DepositId ?? http.Headers["Idempotency-Key"].FirstOrDefault() ?? Guid.NewGuid().ToString("N");
        var result = await cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(smartAccount)).DepositAsync(depositId, amount.Value);
        return result.IsSuccess ? Results.Ok(result.Value) : Problems.From(result.Problem!);
    }

    private static async Task<IResult> GetAsync(string smartAccount, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(smartAccount)) return AgentEndpoints.InvalidAddress("smartAccount", smartAccount);
        var account = await cluster.GetGrain<ISubscriberGrain>(GrainKeys.Account(smartAccount)).GetAsync();
        return account is null ? Problems.Result("account_not_found", $"Account {smartAccount} does not exist.") : Results.Ok(account);
    }
}
