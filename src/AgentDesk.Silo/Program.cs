using AgentDesk.Silo.Configuration;
using AgentDesk.Silo.Persistence;
using Microsoft.Extensions.Hosting;

// A silo on its own: `dotnet run --project src/AgentDesk.Silo` (single node) or with
// AgentDesk__Cluster__Mode=Postgres and a connection string to join a cluster.
// `dotnet run --project src/AgentDesk.Silo -- migrate` applies deploy/sql and exits.
var builder = Host.CreateApplicationBuilder(args);
var options = SiloConfiguration.ReadOptions(builder.Configuration);

if (args.Contains("migrate"))
{
    if (options.Mode == ClusterMode.Postgres) await SchemaMigrator.MigratePostgresAsync(options.ConnectionString!);
    else SchemaMigrator.MigrateSqlite(SiloConfiguration.SqliteConnectionString(options.DataDir));
    Console.WriteLine($"Schema applied ({options.Mode}).");
    return;
}

builder.UseOrleans(silo => silo.UseAgentDeskClustering(options).AddAgentDeskGrains(options, builder.Configuration));
await builder.Build().RunAsync();
