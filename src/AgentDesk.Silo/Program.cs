using AgentDesk.Silo.Configuration;
using AgentDesk.Silo.Hosting;
using AgentDesk.Silo.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A silo on its own: `dotnet run --project src/AgentDesk.Silo` (single node) or, with AgentDesk__Cluster__Mode=Postgres
// and a connection string, a member of a cluster. Commands (docs/operations.md):
//   migrate            applies deploy/sql and exits
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
var options = SiloConfiguration.ReadOptions(builder.Configuration);

if (args.Contains("migrate"))
{
    if (options.Mode == ClusterMode.Postgres) await SchemaMigrator.MigratePostgresAsync(options.ConnectionString!);
    else await SchemaMigrator.MigrateSqliteAsync(SiloConfiguration.SqliteConnectionString(options.DataDir));
    Console.WriteLine($"Schema applied ({options.Mode}).");
    return;
}

// Health endpoints only where asked for (AgentDesk:Silo:HealthPort): several silos share a machine in development.
var healthPort = builder.Configuration.GetValue("AgentDesk:Silo:HealthPort", 0);
builder.WebHost.UseKestrel(kestrel =>
{
    if (healthPort > 0) kestrel.ListenAnyIP(healthPort);
});
builder.Services.AddSingleton(options);
builder.Services.AddHealthChecks().AddCheck<SiloReadiness>("silo", tags: [HealthEndpoints.ReadyTag]);
builder.AddAgentDeskTelemetry("agentdesk-silo");
builder.UseOrleans(silo =>
{
    silo.UseAgentDeskClustering(options).AddAgentDeskGrains(options);
    if (options.Kubernetes) silo.UseKubernetesHosting();
});

var app = builder.Build();
app.MapAgentDeskHealth();
await app.RunAsync();
