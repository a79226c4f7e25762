using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AgentDesk.Testing;
using Npgsql;

namespace AgentDesk.Integration.Tests;

/// <summary>
/// TLS on the cluster transport, switched on by configuration: two silo processes and a gateway process share one
/// certificate, form a cluster and serve the API; the silo ports speak only TLS and refuse a peer with another certificate.
/// </summary>
public sealed class ClusterTlsTests
{
    private static X509Certificate2 SelfSigned(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false)); // server and client authentication
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>
    /// True when the silo port presents <paramref name="trustedServer"/>, completes a TLS handshake with the client certificate
    /// <paramref name="certificate"/> and keeps the connection open.
    /// </summary>
    private static async Task<(bool Accepted, string? ServerThumbprint)> HandshakeAsync(int port, X509Certificate2 certificate, X509Certificate2 trustedServer)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        string? serverThumbprint = null;
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, server, _, _) =>
        {
            serverThumbprint = server?.GetCertHashString();
            return serverThumbprint == trustedServer.Thumbprint;
        });
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "agentdesk-cluster",
                ClientCertificates = [certificate],
            });
            // With TLS 1.3 the server judges the client's certificate after the client considers the handshake done: a
            // refused peer sees the connection closed; an accepted one sees the silo wait for its Orleans preamble.
            var read = tls.ReadAsync(new byte[1]).AsTask();
            if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(3))) != read) return (true, serverThumbprint);
            return (await read > 0, serverThumbprint);
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            return (false, serverThumbprint);
        }
    }

    [Fact]
    public async Task Silos_and_a_gateway_with_tls_form_a_cluster_and_the_silo_ports_refuse_a_peer_without_the_clusters_certificate()
    {
        var directory = Directory.CreateTempSubdirectory("agentdesk-tls-").FullName;
        using var certificate = SelfSigned("agentdesk-cluster");
        using var stranger = SelfSigned("agentdesk-cluster"); // the same name, another key
        var pfx = Path.Combine(directory, "cluster.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));

        var clusterId = Silos.NewClusterId("tls");
        var environment = Silos.PostgresCluster(clusterId);
        environment["AgentDesk__Cluster__Tls__Enabled"] = "true";
        environment["AgentDesk__Cluster__Tls__CertificateFile"] = pfx;
        environment["AgentDesk__Cluster__Tls__CertificatePassword"] = "test-password";
        var ports = new[] { Ports.Next(), Ports.Next(), Ports.Next(), Ports.Next() };
        await using var first = await Silos.StartAsync(environment, ports[0], ports[1]);
        await using var second = await Silos.StartAsync(environment, ports[2], ports[3]);

        // Both silos are active members, as recorded in the membership table.
        await Eventually.WaitForAsync(() => ActiveSilosAsync(clusterId), count => count == 2, TimeSpan.FromSeconds(60), "two active silos");

        // A gateway with the certificate reaches the cluster and serves the API.
        await using var gateway = await Gateways.StartAsync(environment, "tls-gateway-admin-key-0123456789");
        using var http = gateway.Client("tls-gateway-admin-key-0123456789");
        var account = TestData.NewAddress();
        await http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "42" }).OkAsync();
        Assert.Equal(42m, (await http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync())["freeUsdc"]!.GetValue<decimal>());

        // On the wire: the silo's gateway port presents the cluster's certificate, and drops a peer holding another one.
        var member = await HandshakeAsync(ports[1], certificate, certificate);
        Assert.True(member.Accepted);
        Assert.Equal(certificate.Thumbprint, member.ServerThumbprint);
        Assert.False((await HandshakeAsync(ports[1], stranger, certificate)).Accepted);
        Assert.False((await HandshakeAsync(ports[0], stranger, certificate)).Accepted);
        Directory.Delete(directory, recursive: true);
    }

    private static async Task<int> ActiveSilosAsync(string clusterId)
    {
        await using var connection = new NpgsqlConnection(TestEnvironment.PostgresConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @id AND status = 3", connection);
        query.Parameters.AddWithValue("id", clusterId);
        return Convert.ToInt32(await query.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
