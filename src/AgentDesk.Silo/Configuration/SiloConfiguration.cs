using System.ComponentModel.DataAnnotations;
using System.Net;
using AgentDesk.Contracts.Common;
using AgentDesk.Grains.Events;
using AgentDesk.Grains.History;
using AgentDesk.Grains.Infrastructure;
using AgentDesk.Grains.Options;
using AgentDesk.Grains.Webhooks;
using AgentDesk.Silo.Events;
using AgentDesk.Silo.History;
using AgentDesk.Silo.Persistence;
using AgentDesk.Grains.Prices;
using AgentDesk.Venues;
using AgentDesk.Venues.Evm;
using AgentDesk.Venues.Paper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;

namespace AgentDesk.Silo.Configuration;

/// <summary>
/// The silo set-up shared by the standalone silo, the Gateway's co-hosted silo, tests and benchmarks.
/// <see cref="AddAgentDeskGrains"/> adds what grains need (options, storage, reminders, streams, venue);
/// <see cref="UseAgentDeskClustering"/> adds how the silo finds its peers.
/// </summary>
public static class SiloConfiguration
{
    /// <summary>
    /// The cluster options, read and validated while the host is built: the mode decides which providers are wired.
    /// An invalid setting stops the start with one clear message.
    /// </summary>
    public static AgentDeskClusterOptions ReadOptions(IConfiguration configuration)
    {
        var options = configuration.GetSection(AgentDeskClusterOptions.Section).Get<AgentDeskClusterOptions>() ?? new AgentDeskClusterOptions();
        if (configuration["AgentDesk:DataDir"] is { Length: > 0 } dataDir) options.DataDir = dataDir;
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            throw new OptionsValidationException(AgentDeskClusterOptions.Section, typeof(AgentDeskClusterOptions), results.Select(r => r.ErrorMessage ?? "invalid"));
        return options;
    }

    /// <summary>Binds an options class to its own section, validated by its data annotations when the host starts.</summary>
    public static void AddValidatedOptions<T>(this IServiceCollection services, string section) where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    /// <summary>Everything a silo needs whatever its clustering: options, storage and reminders per mode, streams, the venue.</summary>
    public static ISiloBuilder AddAgentDeskGrains(this ISiloBuilder silo, AgentDeskClusterOptions options)
    {
        var services = silo.Services;
        services.AddValidatedOptions<RiskOptions>(RiskOptions.Section);
        services.AddValidatedOptions<PriceOptions>(PriceOptions.Section);
        services.AddValidatedOptions<BatchOptions>(BatchOptions.Section);
        services.AddValidatedOptions<IntentDomainOptions>(IntentDomainOptions.Section);
        services.AddValidatedOptions<PaperVenueOptions>(PaperVenueOptions.Section);
        services.AddValidatedOptions<VenueOptions>(VenueOptions.Section);
        AddEvm(services);
        services.AddValidatedOptions<RetryOptions>(RetryOptions.Section);
        services.AddValidatedOptions<EventOptions>(EventOptions.Section);
        services.AddValidatedOptions<WebhookOptions>(WebhookOptions.Section);
        // Orleans refuses reminder periods under its minimum (a minute by default); retries below a minute need a lower one.
        services.AddOptions<ReminderOptions>().Configure<Microsoft.Extensions.Options.IOptions<RetryOptions>>((reminders, retries) =>
            reminders.MinimumReminderPeriod = TimeSpan.FromSeconds(Math.Min(60, retries.Value.ReminderSeconds)));
        services.AddAgentDeskSerialization();
        services.AddGrainInterfaceTypeCache();
        silo.AddIncomingGrainCallFilter<Grains.Infrastructure.DiscardStateOnFailure>();

        var serializer = new JsonGrainStorageSerializer();
        switch (options.Mode)
        {
            case ClusterMode.Memory:
                services.AddGrainStorage(StorageNames.Provider, (_, _) => new InProcessMemoryGrainStorage());
                silo.UseInMemoryReminderService();
                services.AddSingleton<IEventStore, MemoryEventStore>();
                services.AddSingleton<IHistoryStore, MemoryHistoryStore>();
                break;
            case ClusterMode.SingleNode:
                var sqlite = SqliteConnectionString(options.DataDir);
                TunedSqliteFactory.InstallForOrleansStorage();
                if (options.MigrateOnStart) AddMigration(services, (logger, token) => SchemaMigrator.MigrateSqliteAsync(sqlite, logger, token));
                silo.AddAdoNetGrainStorage(StorageNames.Provider, o =>
                {
                    o.Invariant = TunedSqliteFactory.SqliteInvariant;
                    o.ConnectionString = sqlite;
                    o.GrainStorageSerializer = serializer;
                });
                // Orleans' ADO.NET reminders have no SQLite support; the project's own table keeps them durable.
                services.AddSingleton(new SqliteConnectionSource(sqlite));
                silo.AddReminders();
                services.AddSingleton<IReminderTable, SqliteReminderTable>();
                services.AddSingleton<IEventStore, SqliteEventStore>();
                services.AddSingleton<IHistoryStore, SqliteHistoryStore>();
                break;
            case ClusterMode.Postgres:
                var postgres = options.ConnectionString!;
                if (options.MigrateOnStart) AddMigration(services, (logger, token) => SchemaMigrator.MigratePostgresAsync(postgres, logger, token));
                if (options.BatchedGrainStorage)
                {
                    // The ADO.NET provider's rows and statements, with concurrent operations sent as one batch per round trip.
                    services.AddValidatedOptions<PostgresGrainStorageOptions>(PostgresGrainStorageOptions.Section);
                    services.AddGrainStorage(StorageNames.Provider, (sp, _) => ActivatorUtilities.CreateInstance<PostgresGrainStorage>(sp, postgres, serializer));
                }
                else
                {
                    silo.AddAdoNetGrainStorage(StorageNames.Provider, o =>
                    {
                        o.Invariant = "Npgsql";
                        o.ConnectionString = postgres;
                        o.GrainStorageSerializer = serializer;
                    });
                }
                silo.UseAdoNetReminderService(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = postgres;
                });
                services.AddSingleton(_ => Npgsql.NpgsqlDataSource.Create(postgres));
                services.AddSingleton<IEventStore, PostgresEventStore>();
                services.AddSingleton<IHistoryStore, PostgresHistoryStore>();
                break;
        }

        // Prices are ephemeral: ticks travel on memory streams; only observers' subscriptions need a store.
        silo.AddMemoryGrainStorage(StorageNames.PubSub);
        silo.AddMemoryStreams(Contracts.Prices.IPriceFeedGrain.StreamProvider);

        // Grain calls become OpenTelemetry activities (sources Microsoft.Orleans.Runtime / .Application).
        silo.AddActivityPropagation();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddKeyedSingleton<IExecutionVenue, PaperVenue>(VenueKind.Paper);
        services.TryAddKeyedSingleton<IExecutionVenue>(VenueKind.Evm, (sp, _) => sp.GetRequiredService<EvmVenue>());
        services.TryAddSingleton<ExecutionVenues>();

        // Events: grains hand drafts to the silo's publisher, logs store them, each silo prunes what is past retention.
        services.TryAddSingleton<IEventPublisher, EventPublisher>();
        services.TryAddSingleton<IWebhookSender, HttpWebhookSender>();
        services.AddHostedService<EventRetention>();
        return silo;
    }

    /// <summary>
    /// The EVM venue and chain prices (docs/venues.md). Their settings are checked at start only when something uses the
    /// chain (<c>AgentDesk:Venue:Kind=Evm</c> or <c>AgentDesk:Prices:Source=Chain</c>); the venue connects on first use.
    /// With the EVM venue, intents are signed for the chain's id and the router's address, whatever AgentDesk:Intents says.
    /// </summary>
    private static void AddEvm(IServiceCollection services)
    {
        services.AddOptions<EvmOptions>().BindConfiguration(EvmOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<EvmOptions>, EvmOptionsFromDeployments>();
        services.AddSingleton<IValidateOptions<EvmOptions>>(sp => new EvmOptionsValidator(() =>
            sp.GetRequiredService<IOptions<VenueOptions>>().Value.Kind == VenueKind.Evm
            || sp.GetRequiredService<IOptions<PriceOptions>>().Value.Source == PriceSource.Chain));
        services.AddOptions<IntentDomainOptions>().PostConfigure<IOptions<VenueOptions>, IOptions<EvmOptions>>((domain, venue, evm) =>
        {
            if (venue.Value.Kind != VenueKind.Evm) return;
            domain.ChainId = evm.Value.ChainId;
            domain.VerifyingContract = evm.Value.Router!;
        });
        services.TryAddSingleton<EvmVenue>();
        services.TryAddSingleton<ChainPriceReader>();
        services.AddHostedService<ChainPriceSource>();
    }

    /// <summary>Localhost clustering (single node and memory) or ADO.NET clustering on PostgreSQL, with optional TLS.</summary>
    public static ISiloBuilder UseAgentDeskClustering(this ISiloBuilder silo, AgentDeskClusterOptions options)
    {
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        // Failure detection can be tuned per deployment (docs/operations.md): how fast a dead silo is declared dead,
        // against how long a starved but healthy one may go without answering a probe.
        silo.Services.AddOptions<ClusterMembershipOptions>().BindConfiguration($"{AgentDeskClusterOptions.Section}:Membership");
        if (options.Mode == ClusterMode.Postgres)
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = options.ConnectionString;
            });
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: true);
        }
        else
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
        }
        ClusterTransport.UseTls(silo, options.Tls);
        return silo;
    }

    public static string SqliteConnectionString(string dataDir)
    {
        DataFolder.Create(dataDir);
        return new SqliteConnectionStringBuilder
        {
            DataSource = Path.GetFullPath(Path.Combine(dataDir, "agentdesk.db")),
            Pooling = true,
        }.ToString();
    }

    private static void AddMigration(IServiceCollection services, Func<ILogger, CancellationToken, Task> migrate) =>
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SchemaMigrator));
            return new SchemaMigration(token => migrate(logger, token));
        });
}

/// <summary>The single-node data folder: created readable by its owner only, since it holds the admin key and all state.</summary>
public static class DataFolder
{
    public static void Create(string path)
    {
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(path);
        else Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
