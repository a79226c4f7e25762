namespace AgentDesk.Silo.Configuration;

/// <summary>How a silo is hosted. Section <c>AgentDesk:Cluster</c> (environment <c>AgentDesk__Cluster__…</c>).</summary>
public sealed class AgentDeskClusterOptions
{
    public const string Section = "AgentDesk:Cluster";

    /// <summary><see cref="ClusterMode.SingleNode"/> (default: localhost, SQLite) or <see cref="ClusterMode.Postgres"/>.</summary>
    public ClusterMode Mode { get; set; } = ClusterMode.SingleNode;

    /// <summary>PostgreSQL connection string (Postgres mode), e.g. <c>Host=127.0.0.1;Port=5432;Username=postgres;Database=agentdesk</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Single-node data folder; the SQLite file is <c>{DataDir}/agentdesk.db</c>. Also read from <c>AgentDesk:DataDir</c>.</summary>
    public string DataDir { get; set; } = "./data";

    public string ClusterId { get; set; } = "agentdesk";
    public string ServiceId { get; set; } = "agentdesk";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (Postgres mode). Defaults to 127.0.0.1.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Apply deploy/sql at start-up (default). Turn off when a migration job owns the schema.</summary>
    public bool MigrateOnStart { get; set; } = true;
}

public enum ClusterMode
{
    SingleNode,
    Postgres,

    /// <summary>Grain state in memory; used by tests and benchmarks that host their own cluster.</summary>
    Memory,
}
