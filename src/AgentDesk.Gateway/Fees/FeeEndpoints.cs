using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Fees;
using AgentDesk.Gateway.Infrastructure;

namespace AgentDesk.Gateway.Fees;

public static class FeeEndpoints
{
    public static void MapFeeEndpoints(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/fees/{feeAddress}", async (string feeAddress, IClusterClient cluster) =>
                Results.Ok(await cluster.GetGrain<IFeeLedgerGrain>(GrainKeys.FeeLedger(feeAddress)).GetAsync()))
            .RequireAuthorization(Policies.Operator).WithTags("Fees").Produces<FeeLedgerView>()
            .WithSummary("Fees credited to a fee address, by partner");
}
