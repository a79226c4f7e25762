using System.Globalization;
using AgentDesk.Testing;

namespace AgentDesk.Fault.Tests;

/// <summary>
/// Hosts on one machine: a Linux bridge and, per host, a network namespace joined to it by a veth pair, with its own
/// address. Traffic between hosts crosses the bridge, so taking a host's bridge port down partitions it from every
/// other host (and from the test, which talks to them from the root namespace through the bridge's address).
/// </summary>
public sealed class Hosts : IAsyncDisposable
{
    private readonly string _prefix;
    private readonly string _subnet;
    private readonly List<string> _namespaces = [];

    private Hosts(string prefix, string subnet)
    {
        _prefix = prefix;
        _subnet = subnet;
    }

    /// <summary>The bridge's own address, the root namespace's side (the test's address on this network).</summary>
    public string Gateway => _subnet + "1";

    public static async Task<Hosts> CreateAsync()
    {
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("SUDO_USER") is null)
            throw new InvalidOperationException("The fault tests create network namespaces and need root (CI runs as root).");
        // A short random prefix keeps interface names under Linux's 15 characters and runs apart from each other.
        var tag = Random.Shared.Next(0, 1296).ToString("x3", CultureInfo.InvariantCulture);
        var hosts = new Hosts("adf" + tag, $"10.{200 + Random.Shared.Next(0, 50)}.{Random.Shared.Next(1, 250)}.");
        await IpAsync("link", "add", hosts.Bridge, "type", "bridge");
        await IpAsync("addr", "add", hosts.Gateway + "/24", "dev", hosts.Bridge);
        await IpAsync("link", "set", hosts.Bridge, "up");
        return hosts;
    }

    private string Bridge => _prefix + "br";

    public string Namespace(string host) => $"{_prefix}-{host}";

    /// <summary>Adds a host and returns its address.</summary>
    public async Task<string> AddAsync(string host, int number)
    {
        var ns = Namespace(host);
        var address = _subnet + number.ToString(CultureInfo.InvariantCulture);
        var outside = $"{_prefix}{number}h";
        var inside = $"{_prefix}{number}n";
        await IpAsync("netns", "add", ns);
        _namespaces.Add(ns);
        await IpAsync("link", "add", outside, "type", "veth", "peer", "name", inside);
        await IpAsync("link", "set", inside, "netns", ns);
        await IpAsync("link", "set", outside, "master", Bridge);
        await IpAsync("link", "set", outside, "up");
        await IpAsync("netns", "exec", ns, "ip", "addr", "add", address + "/24", "dev", inside);
        await IpAsync("netns", "exec", ns, "ip", "link", "set", inside, "up");
        await IpAsync("netns", "exec", ns, "ip", "link", "set", "lo", "up");
        await IpAsync("netns", "exec", ns, "ip", "route", "add", "default", "via", Gateway);
        return address;
    }

    /// <summary>Cuts (or restores) a host's only link: nothing reaches it and it reaches nothing.</summary>
    public Task SetConnectedAsync(int number, bool connected) =>
        IpAsync("link", "set", $"{_prefix}{number}h", connected ? "up" : "down");

    public async ValueTask DisposeAsync()
    {
        foreach (var ns in _namespaces) await TryIpAsync("netns", "delete", ns); // deletes its veth pair too
        await TryIpAsync("link", "delete", Bridge);
    }

    private static async Task IpAsync(params string[] arguments)
    {
        var result = await ChildProcess.RunAsync("ip", arguments, TimeSpan.FromSeconds(20));
        if (result.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {result.Error}");
    }

    private static async Task TryIpAsync(params string[] arguments) => await ChildProcess.RunAsync("ip", arguments, TimeSpan.FromSeconds(20));
}
