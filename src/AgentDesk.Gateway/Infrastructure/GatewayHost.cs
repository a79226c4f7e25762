using System.Threading.RateLimiting;
using AgentDesk.Contracts.Access;
using AgentDesk.Gateway.Accounts;
using AgentDesk.Gateway.Agents;
using AgentDesk.Gateway.Batches;
using AgentDesk.Gateway.Fees;
using AgentDesk.Gateway.Intents;
using AgentDesk.Gateway.Keys;
using AgentDesk.Gateway.Positions;
using AgentDesk.Gateway.Prices;
using AgentDesk.Gateway.Vaults;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Silo.Configuration;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentDesk.Gateway.Infrastructure;

/// <summary>
/// Builds the gateway: with nothing configured it co-hosts a single-node silo on SQLite under ./data;
/// in Postgres mode it is a cluster client of the silos registered in PostgreSQL (or co-hosts one of
/// them with <c>AgentDesk:Gateway:CoHostSilo=true</c>).
/// </summary>
public static class GatewayHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // Settings come from the program's own folder; ./data stays relative to where it was started.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        var cluster = SiloConfiguration.ReadOptions(builder.Configuration);
        var coHost = cluster.Mode != ClusterMode.Postgres || builder.Configuration.GetValue("AgentDesk:Gateway:CoHostSilo", false);
        if (coHost)
        {
            builder.UseOrleans(silo => silo.UseAgentDeskClustering(cluster).AddAgentDeskGrains(cluster, builder.Configuration));
        }
        else
        {
            builder.UseOrleansClient(client =>
            {
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
            });
        }

        builder.Services.Configure<AuthOptions>(builder.Configuration.GetSection("AgentDesk:Auth"));
        if (cluster.Mode == ClusterMode.SingleNode && string.IsNullOrEmpty(builder.Configuration["AgentDesk:Auth:AdminKey"]))
        {
            // Zero configuration still needs a credential: the first start writes an admin key into the data
            // folder and every start reuses it (`curl -H "x-api-key: $(cat data/admin.key)" …`).
            var adminKey = LocalAdminKey.LoadOrCreate(cluster.DataDir);
            builder.Services.PostConfigure<AuthOptions>(o => o.AdminKey ??= adminKey);
        }
        builder.Services.Configure<GatewayOptions>(builder.Configuration.GetSection("AgentDesk:Gateway"));
        builder.Services.Configure<PriceSimulatorOptions>(builder.Configuration.GetSection("AgentDesk:Simulator"));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<PriceSimulator>();
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = Json.Options.PropertyNamingPolicy;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        });
        builder.Services.AddProblemDetails();

        builder.Services.AddAuthentication(AgentDeskAuthHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, AgentDeskAuthHandler>(AgentDeskAuthHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Admin, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin))
            .AddPolicy(Policies.Operator, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin, ApiKeyRoles.Operator))
            .AddPolicy(Policies.Oracle, p => p.RequireClaim(Claims.RoleClaim, ApiKeyRoles.Admin, ApiKeyRoles.Operator, ApiKeyRoles.Oracle));

        var permits = builder.Configuration.GetValue("AgentDesk:RateLimit:PermitsPerSecond", 200);
        builder.Services.AddRateLimiter(o =>
        {
            // One bucket per credential (per client address when anonymous), refilled every second.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var partition = context.Request.Headers.TryGetValue("x-api-key", out var key) ? "key:" + AgentDeskAuthHandler.HashKey(key.ToString())
                    : context.Request.Headers.Authorization.ToString() is { Length: > 0 } bearer ? "jwt:" + AgentDeskAuthHandler.HashKey(bearer)
                    : "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                });
            });
            o.OnRejected = (context, _) => new ValueTask(Problems.WriteAsync(context.HttpContext, "rate_limited",
                $"More than {permits} requests in a second for this credential; slow down."));
        });

        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<SeedExamplesTransformer>());
        AddTelemetry(builder);
        return Map(builder.Build());
    }

    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var console = !otlp && builder.Configuration.GetValue("AgentDesk:Telemetry:Console", true);
        builder.Logging.AddOpenTelemetry(o =>
        {
            o.IncludeFormattedMessage = true;
            if (otlp) o.AddOtlpExporter();
        });
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("agentdesk-gateway"))
            .WithTracing(t =>
            {
                t.AddAspNetCoreInstrumentation().AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                if (otlp) t.AddOtlpExporter();
                if (console) t.AddConsoleExporter();
            })
            .WithMetrics(m =>
            {
                m.AddAspNetCoreInstrumentation().AddMeter("Microsoft.Orleans", AgentDeskMetrics.MeterName);
                if (otlp) m.AddOtlpExporter();
                if (console) m.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000);
            });
    }

    private static WebApplication Map(WebApplication app)
    {
        app.UseExceptionHandler(); // unexpected failures become problem details too
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/health", async (IClusterClient client) =>
        {
            // Healthy when the cluster answers a grain call.
            await client.GetGrain<Contracts.Prices.IPriceFeedGrain>("price:HEALTH").GetLatestAsync();
            return Results.Ok(new { status = "healthy" });
        }).WithTags("Operations");

        app.MapAgentEndpoints();
        app.MapAccountEndpoints();
        app.MapBatchEndpoints();
        app.MapPositionEndpoints();
        app.MapIntentEndpoints();
        app.MapVaultEndpoints();
        app.MapPriceEndpoints();
        app.MapFeeEndpoints();
        app.MapKeyEndpoints();
        return app;
    }
}

/// <summary>The single-node admin key kept in <c>{DataDir}/admin.key</c> when none is configured.</summary>
public static class LocalAdminKey
{
    public static string LoadOrCreate(string dataDir)
    {
        Directory.CreateDirectory(dataDir);
        var path = Path.Combine(dataDir, "admin.key");
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        var key = "adk_admin_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        File.WriteAllText(path, key);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Console.WriteLine($"AgentDesk: no AgentDesk:Auth:AdminKey configured; wrote an admin key to {Path.GetFullPath(path)}");
        return key;
    }
}

/// <summary>Section <c>AgentDesk:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    /// <summary>The chain's native asset, whose price converts USD figures to "native" ones (seed 001).</summary>
    public string NativeSymbol { get; set; } = "ETH";
}
