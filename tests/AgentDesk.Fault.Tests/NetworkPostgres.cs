using AgentDesk.Testing;
using Npgsql;

namespace AgentDesk.Fault.Tests;

/// <summary>
/// A PostgreSQL server of its own on one of the hosts (initdb and pg_ctl refuse root, so they run as the postgres
/// user). It listens on the host's address only, so silos reach it across the bridge like a database server on
/// another machine; the test reads it the same way.
/// </summary>
public sealed class NetworkPostgres : IAsyncDisposable
{
    private readonly string _namespace;
    private readonly string _directory;
    private readonly string _bin;

    private NetworkPostgres(string ns, string address, string directory, string bin)
    {
        _namespace = ns;
        Address = address;
        _directory = directory;
        _bin = bin;
    }

    public string Address { get; }

    /// <remarks>
    /// GSS encryption off: Npgsql otherwise first tries a Kerberos handshake, whose lookups hang on a host without DNS
    /// (these namespaces have none) until the connect timeout. A deployment without Kerberos can set the same.
    /// </remarks>
    public string ConnectionString => $"Host={Address};Port=5432;Username=postgres;Database=postgres;Timeout=5;Command Timeout=15;Gss Encryption Mode=Disable";

    public static async Task<NetworkPostgres> StartAsync(string ns, string address, string subnet)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(Directory.Exists).Max()
            ?? throw new InvalidOperationException("PostgreSQL is not installed: run deploy/local/postgres.sh start once (./test.sh does).");
        var directory = Directory.CreateTempSubdirectory("agentdesk-fault-pg-").FullName;
        await RunAsync("chown", "postgres:postgres", directory);
        await RunAsync("su", "postgres", "-c", $"{bin}/initdb -D {directory}/data -U postgres -A trust > /dev/null");
        await File.AppendAllTextAsync($"{directory}/data/pg_hba.conf", $"host all all {subnet}0/24 trust\n");
        var server = new NetworkPostgres(ns, address, directory, bin);
        await server.PgCtlAsync($"-l {directory}/server.log -w -o '-p 5432 -c listen_addresses={address} -c unix_socket_directories={directory} "
            + "-c max_connections=300 -c fsync=off' start");
        return server;
    }

    /// <summary>A fast restart: every connection is cut, and the server is back when this returns.</summary>
    public Task RestartAsync() => PgCtlAsync("-m fast -w restart");

    public async Task<int> ActiveSilosAsync(string clusterId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @id AND status = 3", connection);
        query.Parameters.AddWithValue("id", clusterId);
        return Convert.ToInt32(await query.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await ChildProcess.RunAsync("su", ["postgres", "-c", $"{_bin}/pg_ctl -D {_directory}/data -m immediate stop"], TimeSpan.FromSeconds(30));
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// pg_ctl in the host's namespace. Its output goes to a file: the server it starts would otherwise inherit the
    /// pipe and keep it open for as long as it runs.
    /// </summary>
    private async Task PgCtlAsync(string arguments)
    {
        var log = Path.Combine(_directory, "pg_ctl.log");
        var result = await ChildProcess.RunAsync("ip", ["netns", "exec", _namespace, "su", "postgres", "-c", $"{_bin}/pg_ctl -D {_directory}/data {arguments} >> {log} 2>&1"],
            TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0) throw new InvalidOperationException($"pg_ctl {arguments} failed ({result.ExitCode}): {await File.ReadAllTextAsync(log)}");
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        var result = await ChildProcess.RunAsync(file, arguments, TimeSpan.FromSeconds(60));
        if (result.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({result.ExitCode}): {result.Output}{result.Error}");
    }
}
