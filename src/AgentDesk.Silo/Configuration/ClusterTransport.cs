using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace AgentDesk.Silo.Configuration;

/// <summary>
/// TLS between silos and between gateways and silos (docs/security.md, "Cluster transport"). Off by default; when
/// on, both ends present a certificate and accept only peers with the same certificate, or one issued by the
/// configured issuer: the cluster's ports then speak only to cluster members.
/// </summary>
public static class ClusterTransport
{
    public static void UseTls(ISiloBuilder silo, ClusterTlsOptions tls)
    {
        if (!tls.Enabled) return;
        var certificate = Load(tls);
        silo.UseTls(certificate, options => Configure(options, certificate, tls));
    }

    public static void UseTls(IClientBuilder client, ClusterTlsOptions tls)
    {
        if (!tls.Enabled) return;
        var certificate = Load(tls);
        client.UseTls(certificate, options => Configure(options, certificate, tls));
    }

    private static X509Certificate2 Load(ClusterTlsOptions tls) =>
        X509CertificateLoader.LoadPkcs12FromFile(tls.CertificateFile!, tls.CertificatePassword);

    private static void Configure(TlsOptions options, X509Certificate2 own, ClusterTlsOptions tls)
    {
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        // A private cluster trusts its own certificate (or its own issuer), not the machine's public CA store.
        options.RemoteCertificateValidation = (certificate, chain, _) =>
            certificate is not null && (certificate.Thumbprint == own.Thumbprint
                || (tls.TrustedIssuerThumbprint is { Length: > 0 } issuer && chain?.ChainElements.Any(e => string.Equals(e.Certificate.Thumbprint, issuer, StringComparison.OrdinalIgnoreCase)) == true));
    }
}
