using System.Globalization;
using System.Net.Sockets;
using AgentDesk.Testing;

namespace AgentDesk.Fault.Tests;

/// <summary>
/// The production shape on one machine: PostgreSQL, three silo processes and a gateway process, each on its own host
/// (network namespace) and address. It plays the orchestrator too: <see cref="HealAsync"/> restarts silos that exited
/// (a silo declared dead while partitioned stops itself, as Orleans silos do) and waits for full membership.
/// </summary>
public sealed class FaultCluster : IAsyncLifetime
{
    public const string AdminKey = "fault-tests-admin-key-0123456789abcdef";
    private const int GatewayHttpPort = 8080;
    private readonly ServerProcess?[] _silos = new ServerProcess?[3];
    private readonly List<string> _exitedOutput = [];
    private Hosts _hosts = null!;
    private ServerProcess _gateway = null!;
    private Dictionary<string, string> _siloEnvironment = null!;

    public NetworkPostgres Postgres { get; private set; } = null!;
    public string ClusterId { get; } = "fault-" + Guid.NewGuid().ToString("N")[..8];
    public Uri GatewayAddress { get; private set; } = null!;

    public int SiloCount => _silos.Length;

    /// <summary>The host number of silo <paramref name="index"/> (0-based): its address ends in it, its link is named after it.</summary>
    public static int SiloHost(int index) => 11 + index;

    public async Task InitializeAsync()
    {
        _hosts = await Hosts.CreateAsync();
        var pgAddress = await _hosts.AddAsync("pg", 10);
        var subnet = pgAddress[..(pgAddress.LastIndexOf('.') + 1)];
        Postgres = await NetworkPostgres.StartAsync(_hosts.Namespace("pg"), pgAddress, subnet);
        _siloEnvironment = new Dictionary<string, string>
        {
            ["AgentDesk__Cluster__Mode"] = "Postgres",
            ["AgentDesk__Cluster__ConnectionString"] = Postgres.ConnectionString,
            ["AgentDesk__Cluster__ClusterId"] = ClusterId,
            ["AgentDesk__Cluster__ServiceId"] = ClusterId,
            ["AgentDesk__Cluster__SiloPort"] = "11111",
            ["AgentDesk__Cluster__GatewayPort"] = "30000",
            // Failure detection a starved 2-core machine tolerates, yet quick enough for a test: about 10 s to a verdict.
            ["AgentDesk__Cluster__Membership__ProbeTimeout"] = "00:00:02",
            ["AgentDesk__Cluster__Membership__NumMissedProbesLimit"] = "3",
            ["AgentDesk__Cluster__Membership__NumVotesForDeathDeclaration"] = "1",
            ["AgentDesk__Retries__ReminderSeconds"] = "10",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        for (var i = 0; i < _silos.Length; i++) await _hosts.AddAsync($"s{i + 1}", SiloHost(i));
        var gatewayAddress = await _hosts.AddAsync("gw", 20);
        await Task.WhenAll(Enumerable.Range(0, _silos.Length).Select(StartSiloAsync));

        var gatewayEnvironment = new Dictionary<string, string>(_siloEnvironment)
        {
            ["Urls"] = $"http://{gatewayAddress}:{GatewayHttpPort}",
            ["AgentDesk__Auth__AdminKey"] = AdminKey,
            ["AgentDesk__RateLimit__PermitsPerSecond"] = "100000",
        };
        _gateway = ServerProcess.StartProgram("AgentDesk.Gateway", gatewayEnvironment, netns: _hosts.Namespace("gw"));
        GatewayAddress = new Uri($"http://{gatewayAddress}:{GatewayHttpPort}");
        using var http = Client();
        await Eventually.WaitThroughAsync(() => http.GetAsync("/health/ready"), r => r.IsSuccessStatusCode,
            e => e is HttpRequestException or TaskCanceledException, TimeSpan.FromSeconds(120), "the gateway to reach the cluster");
        await WaitForFullMembershipAsync();
    }

    public HttpClient Client() => new() { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(60), DefaultRequestHeaders = { { "x-api-key", AdminKey } } };

    /// <summary>Silo <paramref name="index"/>'s address: on the database's network, with its host number.</summary>
    private string SiloAddress(int index) => Postgres.Address[..(Postgres.Address.LastIndexOf('.') + 1)] + SiloHost(index).ToString(CultureInfo.InvariantCulture);

    private async Task StartSiloAsync(int index)
    {
        var address = SiloAddress(index);
        var environment = new Dictionary<string, string>(_siloEnvironment) { ["AgentDesk__Cluster__AdvertisedAddress"] = address };
        var silo = ServerProcess.StartProgram("AgentDesk.Silo", environment, netns: _hosts.Namespace($"s{index + 1}"));
        _silos[index] = silo;
        await WaitForPortAsync(silo, address, 30000, TimeSpan.FromSeconds(90));
    }

    public void KillSilo(int index) => _silos[index]!.Kill();

    /// <summary>SIGTERM, a graceful stop, then a start on the same host: one step of a rolling restart.</summary>
    public async Task RestartSiloAsync(int index)
    {
        await _silos[index]!.StopAsync(TimeSpan.FromSeconds(90));
        _exitedOutput.Add($"--- silo {index + 1} (stopped) ---\n{_silos[index]!.Output}");
        await _silos[index]!.DisposeAsync();
        await StartSiloAsync(index);
    }

    public Task PartitionSiloAsync(int index, bool partitioned) => _hosts.SetConnectedAsync(SiloHost(index), !partitioned);

    public bool SiloRunning(int index) => _silos[index] is { HasExited: false };

    /// <summary>
    /// What an orchestrator does until the cluster is whole again: starts every silo that exited (one declared dead while
    /// partitioned stops itself once it can read the membership table again), until all are active members.
    /// </summary>
    public async Task HealAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (true)
        {
            for (var i = 0; i < _silos.Length; i++)
            {
                if (SiloRunning(i)) continue;
                if (_silos[i] is { } exited)
                {
                    _exitedOutput.Add($"--- silo {i + 1} (exited) ---\n{exited.Output}");
                    await exited.DisposeAsync();
                }
                await StartSiloAsync(i);
            }
            int active;
            try
            {
                active = await Postgres.ActiveSilosAsync(ClusterId);
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                active = -1;
            }
            if (active == _silos.Length && Enumerable.Range(0, _silos.Length).All(SiloRunning)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The cluster did not heal: {active} active silos.\n{Diagnostics()}");
            await Task.Delay(500);
        }
    }

    public Task WaitForFullMembershipAsync() =>
        Eventually.WaitThroughAsync(() => Postgres.ActiveSilosAsync(ClusterId), n => n == _silos.Length, e => e is Npgsql.NpgsqlException or TimeoutException,
            TimeSpan.FromSeconds(120), $"{_silos.Length} active silos");

    public string Diagnostics() => string.Join("\n", _exitedOutput.Concat(_silos.Select((s, i) => $"--- silo {i + 1} ---\n{s?.Output}")))
        + $"\n--- gateway ---\n{_gateway.Output}";

    private static async Task WaitForPortAsync(ServerProcess process, string address, int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"The silo exited before listening on {address}:{port}:\n{process.Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(2));
                return;
            }
            catch (Exception e) when (e is SocketException or TimeoutException)
            {
                await Task.Delay(200);
            }
        }
        throw new TimeoutException($"Nothing listened on {address}:{port} within {timeout.TotalSeconds} s:\n{process.Output}");
    }

    public async Task DisposeAsync()
    {
        // AGENTDESK_FAULT_KEEP=1 leaves the processes, the database and the network up for a post-mortem.
        if (Environment.GetEnvironmentVariable("AGENTDESK_FAULT_KEEP") == "1")
        {
            Console.Error.WriteLine($"Kept: PostgreSQL {Postgres.ConnectionString}, gateway {GatewayAddress}");
            return;
        }
        foreach (var silo in _silos) if (silo is not null) await silo.DisposeAsync();
        if (_gateway is not null) await _gateway.DisposeAsync();
        if (Postgres is not null) await Postgres.DisposeAsync();
        if (_hosts is not null) await _hosts.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultCluster>
{
    public const string Name = "fault cluster";
}
