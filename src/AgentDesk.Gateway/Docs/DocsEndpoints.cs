using AgentDesk.Silo.Hosting;
using Scalar.AspNetCore;

namespace AgentDesk.Gateway.Docs;

/// <summary>What <c>/health</c> answers: <c>healthy</c> (200) or <c>unhealthy</c> (503).</summary>
public sealed record HealthResponse(string Status);

/// <summary>The API reference at <c>/docs</c> (Scalar over <c>/openapi/v1.json</c>, served locally), <c>/</c> redirecting to it, and health.</summary>
public static class DocsEndpoints
{
    public static void MapAgentDeskDocs(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous().DisableRateLimiting();
        app.MapScalarApiReference("/docs", options => options
                .WithTitle("AgentDesk API")
                .WithOpenApiRoutePattern("/openapi/{documentName}.json"))
            .AllowAnonymous().DisableRateLimiting();
        app.MapGet("/", () => TypedResults.Redirect("/docs")).ExcludeFromDescription().AllowAnonymous().DisableRateLimiting();
    }

    /// <summary>
    /// <c>/health</c> answers while the cluster answers (kept for existing monitors); <c>/health/live</c> and
    /// <c>/health/ready</c> are the probes (docs/operations.md).
    /// </summary>
    public static void MapGatewayHealth(this WebApplication app)
    {
        HealthEndpoints.MapAgentDeskHealth(app);
        app.MapGet("/health", async (Hosting.ClusterReadiness readiness, CancellationToken cancellationToken) =>
            {
                var result = await readiness.CheckHealthAsync(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext(), cancellationToken);
                return result.Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                    ? Results.Ok(new HealthResponse("healthy"))
                    : Results.Json(new HealthResponse("unhealthy"), statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .Produces<HealthResponse>(StatusCodes.Status200OK).Produces<HealthResponse>(StatusCodes.Status503ServiceUnavailable)
            // Rate-limited like any anonymous request (by client address): each answer asks the cluster, so a flood of it
            // must not slow every tenant. Monitors polling every few seconds stay far below the limit.
            .WithTags("Operations").WithName("health").WithSummary("Healthy while the cluster answers").AllowAnonymous();
    }
}
