using System.ComponentModel.DataAnnotations;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Gateway.Access;
using AgentDesk.Gateway.Accounts;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Batches;
using AgentDesk.Gateway.OperatorConsole;
using AgentDesk.Gateway.Docs;
using AgentDesk.Gateway.Events;
using AgentDesk.Gateway.History;
using AgentDesk.Gateway.Fees;
using AgentDesk.Gateway.Http;
using AgentDesk.Gateway.Intents;
using AgentDesk.Gateway.Keys;
using AgentDesk.Gateway.Positions;
using AgentDesk.Gateway.Prices;
using AgentDesk.Gateway.Vaults;
using AgentDesk.Gateway.Webhooks;
using AgentDesk.Grains.Options;
using AgentDesk.Silo.Configuration;
using AgentDesk.Silo.Hosting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace AgentDesk.Gateway.Hosting;

/// <summary>Section <c>AgentDesk:Gateway</c>.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    public const string Section = "AgentDesk:Gateway";

    /// <summary>In Postgres mode, also run a silo inside the gateway process.</summary>
    public bool CoHostSilo { get; set; }

    /// <summary>How long a batch request waits for its batch before answering 202 Accepted with the batch's status URL.</summary>
    [Range(1, 600)]
    public int BatchBudgetSeconds { get; set; } = 15;

    /// <summary>
    /// Reverse proxies (addresses, or networks as CIDR) whose <c>X-Forwarded-For</c> names the client: the address the rate
    /// limits key anonymous callers by. Empty (the default): the header is ignored, and the address is the connection's.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary><see cref="TrustedProxies"/> as networks (an address is a network of one); valid once the options validated.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TrustedProxyNetworks() =>
        [.. TrustedProxies.Select(proxy => ClientAddresses.TryParseProxy(proxy, out var network) ? network : throw new FormatException(proxy))];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) => TrustedProxies
        .Where(proxy => !ClientAddresses.TryParseProxy(proxy, out _))
        .Select(proxy => new ValidationResult(
            $"'{proxy}' is neither an IP address nor a network in CIDR notation (IPv4 in its four-part dotted form, and a network's "
            + "address with no bits set past its prefix: 10.0.0.0/8, not 10/8 or 10.0.0.1/8).",
            [nameof(TrustedProxies)]));
}

/// <summary>
/// Builds the gateway: with nothing configured it co-hosts a single-node silo on SQLite under ./data; in Postgres mode
/// it is a cluster client of the silos registered in PostgreSQL (or co-hosts one with <c>AgentDesk:Gateway:CoHostSilo</c>).
/// The framework does the plumbing: typed bodies, one exception handler, problem details for every status, an endpoint
/// filter for agent access, rate limits after authentication, and OpenAPI inferred from typed results.
/// </summary>
public static class GatewayHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings come from the program's own folder; ./data stays relative to where it was started.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        // The documented default address; --urls, Urls or ASPNETCORE_URLS override it.
        if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://localhost:5080");
        var cluster = SiloConfiguration.ReadOptions(builder.Configuration);
        var services = builder.Services;
        services.AddValidatedOptions<GatewayOptions>(GatewayOptions.Section);
        services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        services.AddValidatedOptions<RateLimitOptions>(RateLimitOptions.Section);
        services.AddValidatedOptions<PriceOptions>(PriceOptions.Section);
        services.AddValidatedOptions<PriceSimulatorOptions>(PriceSimulatorOptions.Section);
        services.AddValidatedOptions<EventOptions>(EventOptions.Section);
        services.AddSingleton(cluster);

        if (cluster.Mode != ClusterMode.Postgres || builder.Configuration.GetValue($"{GatewayOptions.Section}:CoHostSilo", false))
            builder.UseOrleans(silo => silo.UseAgentDeskClustering(cluster).AddAgentDeskGrains(cluster));
        else
            builder.UseOrleansClient(client => UseCluster(client, cluster));

        if (cluster.Mode == ClusterMode.SingleNode && string.IsNullOrEmpty(builder.Configuration[$"{AuthOptions.Section}:AdminKey"]))
        {
            // Zero configuration still needs a credential: the first start writes an admin key into the data folder and
            // every start reuses it (`curl -H "x-api-key: $(cat data/admin.key)" …`).
            var adminKey = LocalAdminKey.LoadOrCreate(cluster.DataDir);
            services.PostConfigure<AuthOptions>(o => o.AdminKey ??= adminKey.Key);
            services.AddSingleton(adminKey);
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = GatewayLimits.MaxRequestBodyBytes);
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            // Status-only answers of the framework (404 route, 405 method …) get a catalogue code like every other problem.
            if (context.ProblemDetails.Extensions.ContainsKey("code")) return;
            var error = DefaultError(context.ProblemDetails.Status ?? StatusCodes.Status500InternalServerError);
            context.ProblemDetails.Extensions["code"] = error.Code;
            context.ProblemDetails.Title = error.Title;
            context.ProblemDetails.Detail ??= $"{error.Title}: {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}.";
            context.ProblemDetails.Type = ApiProblems.TypeBase + error.Code;
        });
        services.AddSingleton(TimeProvider.System);

        services.AddAuthentication(AgentDeskAuthHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AgentDeskAuthHandler>(AgentDeskAuthHandler.SchemeName, null);
        Policies.Add(services.AddAuthorizationBuilder());
        var rateLimits = builder.Configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        RateLimits.Add(services, rateLimits);
        services.AddSingleton(sp => UnknownKeyLimit.ForDirectory(rateLimits, sp));
        services.AddSingleton<CredentialRecheck>();
        services.AddSingleton<Events.OpenEventStreams>();

        services.AddAgentDeskOpenApi();
        services.AddSingleton<ClusterReadiness>();
        services.AddHealthChecks().Add(new Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckRegistration(
            "cluster", sp => sp.GetRequiredService<ClusterReadiness>(), null, [HealthEndpoints.ReadyTag]));
        services.AddHostedService<PriceSimulator>();
        services.AddHostedService<FirstRunBanner>();
        builder.AddAgentDeskTelemetry("agentdesk-gateway", t => t.AddAspNetCoreInstrumentation(), m => m.AddAspNetCoreInstrumentation());
        return Map(builder.Build());
    }

    /// <summary>A cluster client of PostgreSQL-clustered silos (TLS when the cluster uses it).</summary>
    private static void UseCluster(IClientBuilder client, AgentDeskClusterOptions cluster)
    {
        client.Services.AddAgentDeskSerialization();
        client.Services.AddGrainInterfaceTypeCache();
        client.AddActivityPropagation();
        client.Configure<Orleans.Configuration.ClusterOptions>(o =>
        {
            o.ClusterId = cluster.ClusterId;
            o.ServiceId = cluster.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = "Npgsql";
            o.ConnectionString = cluster.ConnectionString;
        });
        ClusterTransport.UseTls(client, cluster.Tls);
    }

    private static WebApplication Map(WebApplication app)
    {
        // First, so that every later step (the rate limits above all) sees the client behind a trusted proxy.
        var proxies = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.TrustedProxyNetworks();
        app.WarnOfUntrustedForwarding(proxies);
        if (proxies.Count > 0) app.UseForwardedHeaders(ClientAddresses.ForwardedFrom(proxies));
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseConsole();
        UnknownKeyLimit.Use(app);
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapAgentDeskDocs();
        app.MapGatewayHealth();
        app.MapAgentEndpoints();
        app.MapAccountEndpoints();
        app.MapBatchEndpoints();
        app.MapPositionEndpoints();
        app.MapIntentEndpoints();
        app.MapVaultEndpoints();
        app.MapPriceEndpoints();
        app.MapFeeEndpoints();
        app.MapKeyEndpoints();
        app.MapEventEndpoints();
        app.MapHistoryEndpoints();
        app.MapWebhookEndpoints();
        return app;
    }

    private static ErrorCode DefaultError(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => Errors.Unauthenticated,
        StatusCodes.Status403Forbidden => Errors.Forbidden,
        StatusCodes.Status404NotFound => Errors.RouteNotFound,
        StatusCodes.Status405MethodNotAllowed => Errors.MethodNotAllowed,
        StatusCodes.Status413PayloadTooLarge => Errors.PayloadTooLarge,
        StatusCodes.Status415UnsupportedMediaType => Errors.UnsupportedMediaType,
        StatusCodes.Status429TooManyRequests => Errors.RateLimited,
        StatusCodes.Status503ServiceUnavailable => Errors.Unavailable,
        >= 400 and < 500 => Errors.MalformedJson,
        _ => Errors.Internal,
    };
}

/// <summary>A gateway is ready when the cluster answers a grain call.</summary>
public sealed class ClusterReadiness(IClusterClient cluster) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await cluster.GetGrain<Contracts.Prices.IPriceDirectoryGrain>(GrainKeys.PriceDirectory).GetSymbolsAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy();
        }
        catch (Exception e) when (ClusterFailures.IsTransient(e) || e is OrleansException)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("The cluster does not answer.", e);
        }
    }
}
