using System.ComponentModel.DataAnnotations;

namespace AgentDesk.Silo.Configuration;

/// <summary>How a silo is hosted and where its state lives. Section <c>AgentDesk:Cluster</c> (environment <c>AgentDesk__Cluster__…</c>).</summary>
public sealed class AgentDeskClusterOptions : IValidatableObject
{
    public const string Section = "AgentDesk:Cluster";

    /// <summary><see cref="ClusterMode.SingleNode"/> (default: localhost, SQLite) or <see cref="ClusterMode.Postgres"/>.</summary>
    public ClusterMode Mode { get; set; } = ClusterMode.SingleNode;

    /// <summary>PostgreSQL connection string (Postgres mode), e.g. <c>Host=127.0.0.1;Port=5432;Username=postgres;Database=agentdesk</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Single-node data folder; the SQLite file is <c>{DataDir}/agentdesk.db</c>. Also read from <c>AgentDesk:DataDir</c>.</summary>
    [Required]
    public string DataDir { get; set; } = "./data";

    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string ClusterId { get; set; } = "agentdesk";

    [Required, RegularExpression("^[A-Za-z0-9._-]{1,64}$")]
    public string ServiceId { get; set; } = "agentdesk";

    [Range(0, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(0, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The address other silos reach this one at (Postgres mode). Defaults to 127.0.0.1.</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Apply deploy/sql at start-up (default). Turn off when a migration job owns the schema.</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// Postgres mode: grain state through the batched provider (<c>PostgresGrainStorage</c>, docs/cluster.md), the default;
    /// false uses Orleans' ADO.NET provider, one statement per round trip, on the same rows (switching needs no migration).
    /// </summary>
    public bool BatchedGrainStorage { get; set; } = true;

    /// <summary>Run under Kubernetes: identity and membership hints from the pod (Microsoft.Orleans.Hosting.Kubernetes).</summary>
    public bool Kubernetes { get; set; }

    /// <summary>Optional TLS between silos and clients (docs/security.md, "Cluster transport").</summary>
    public ClusterTlsOptions Tls { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Mode == ClusterMode.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
            yield return new ValidationResult("Postgres mode needs AgentDesk:Cluster:ConnectionString (AgentDesk__Cluster__ConnectionString).", [nameof(ConnectionString)]);
        if (Tls.Enabled && string.IsNullOrWhiteSpace(Tls.CertificateFile))
            yield return new ValidationResult("AgentDesk:Cluster:Tls:Enabled needs AgentDesk:Cluster:Tls:CertificateFile (a PKCS#12 file).", [nameof(Tls)]);
    }
}

/// <summary>
/// TLS for silo-to-silo and client-to-silo connections. Every member presents the certificate in
/// <see cref="CertificateFile"/> and accepts peers whose certificate has the same thumbprint or is issued by
/// <see cref="TrustedIssuerThumbprint"/>: a private cluster, not the public PKI.
/// </summary>
public sealed class ClusterTlsOptions
{
    public bool Enabled { get; set; }

    /// <summary>A PKCS#12 (.pfx) file with the certificate and its private key.</summary>
    public string? CertificateFile { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Optional: accept peers whose certificate chains to this issuer (by thumbprint) as well as the same certificate.</summary>
    public string? TrustedIssuerThumbprint { get; set; }
}

public enum ClusterMode
{
    SingleNode,
    Postgres,

    /// <summary>Grain state in memory; used by tests and benchmarks that host their own cluster.</summary>
    Memory,
}
