using AgentDesk.Silo.Configuration;
using AgentDesk.Silo.Hosting;
using AgentDesk.Silo.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// A silo on its own: `dotnet run --project src/AgentDesk.Silo` (single node) or, with AgentDesk__Cluster__Mode=Postgres
// and a connection string, a member of a cluster. Commands (docs/operations.md, docs/venues.md):
//   migrate            applies deploy/sql and exits
//   deploy-contracts   deploys the EVM venue's contracts to AgentDesk:Evm:RpcUrl, writes deployments.json and exits
//   sign-vault-claim   prints a vault contract admin's signature letting an organisation create a vault on it, and exits
// Exit code 1, with one line on stderr, for invalid settings or a PostgreSQL server that cannot be reached (2 for a command's).
var configuration = new ConfigurationManager();
configuration.AddEnvironmentVariables().AddCommandLine(args);

if (args.Contains("deploy-contracts"))
{
    return await DeployContractsCommand.RunAsync(configuration);
}
if (args.Contains("sign-vault-claim"))
{
    return SignVaultClaimCommand.Run(configuration);
}
AgentDeskClusterOptions options;
try
{
    options = SiloConfiguration.ReadOptions(configuration);
}
catch (OptionsValidationException e)
{
    await Console.Error.WriteLineAsync($"AgentDesk silo: invalid settings: {e.Message}");
    return 1;
}

// A database that cannot be reached stops the start here, with one line, rather than as a lifecycle stack trace.
if (options.Mode == ClusterMode.Postgres && await PostgresCheck.ProblemAsync(options.ConnectionString, TimeSpan.FromSeconds(10)) is { } unreachable)
{
    await Console.Error.WriteLineAsync($"AgentDesk silo: {unreachable}");
    return 1;
}

if (args.Contains("migrate"))
{
    if (options.Mode == ClusterMode.Postgres) await SchemaMigrator.MigratePostgresAsync(options.ConnectionString!);
    else await SchemaMigrator.MigrateSqliteAsync(SiloConfiguration.SqliteConnectionString(options.DataDir));
    Console.WriteLine($"Schema applied ({options.Mode}).");
    return 0;
}

// Health endpoints only where asked for (AgentDesk:Silo:HealthPort): without one the silo starts no web server at all,
// so several silos share a machine in development without contending for an HTTP port.
var healthPort = configuration.GetValue("AgentDesk:Silo:HealthPort", 0);
if (healthPort > 0)
{
    var web = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
    web.WebHost.UseKestrel(kestrel => kestrel.ListenAnyIP(healthPort));
    ConfigureSilo(web);
    web.Services.AddHealthChecks().AddCheck<SiloReadiness>("silo", tags: [HealthEndpoints.ReadyTag]);
    var app = web.Build();
    app.MapAgentDeskHealth();
    await app.RunAsync();
}
else
{
    var host = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
    ConfigureSilo(host);
    await host.Build().RunAsync();
}
return 0;

void ConfigureSilo(IHostApplicationBuilder builder)
{
    builder.Services.AddSingleton(options);
    builder.AddAgentDeskTelemetry("agentdesk-silo");
    builder.UseOrleans(silo =>
    {
        silo.UseAgentDeskClustering(options).AddAgentDeskGrains(options);
        if (options.Kubernetes) silo.UseKubernetesHosting();
    });
}
