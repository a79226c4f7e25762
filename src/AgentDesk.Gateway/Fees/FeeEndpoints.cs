using System.Security.Claims;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Intents;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentDesk.Gateway.Fees;

public static class FeeEndpoints
{
    public static void MapFeeEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/fees/{feeAddress}", GetAsync).RequireAuthorization(Policies.Operator).WithTags("Fees").WithName("getFeeLedger")
            .WithSummary("Fees the caller's organisation's agents credited to a fee address, by partner").ProducesErrors(Errors.InvalidAddress, Errors.FeeLedgerNotFound);

    private static async Task<Results<Ok<FeeLedgerView>, ProblemHttpResult>> GetAsync(string feeAddress, ClaimsPrincipal user, IClusterClient cluster)
    {
        if (!EthAddress.IsValid(feeAddress)) return AgentEndpoints.InvalidAddress("feeAddress", feeAddress);
        var ledger = await cluster.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(user.Organization(), feeAddress)).GetAsync();
        // A ledger exists once the caller's organisation has credited the address (or refunded it first: an order refused
        // when it triggered, before its batch's credit); otherwise there is nothing to show.
        return ledger.ByPartner.Count == 0
            ? ApiProblems.For(Errors.FeeLedgerNotFound, $"No fees were credited to {feeAddress} in your organisation.")
            : TypedResults.Ok(ledger);
    }
}
