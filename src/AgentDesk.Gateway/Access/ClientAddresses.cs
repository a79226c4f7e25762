using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace AgentDesk.Gateway.Access;

/// <summary>
/// Who a client is, by address (docs/security.md, "The client address"): the rate limits' key for callers without a
/// credential, the proxies whose <c>X-Forwarded-For</c> may name it, and a warning when a header arrives from anyone else.
/// </summary>
public static class ClientAddresses
{
    /// <summary>
    /// The rate-limit key of a client address. An IPv4 address is itself (an IPv4-mapped IPv6 address, which a dual-stack
    /// socket reports for an IPv4 client, is its IPv4 address). An IPv6 address counts by its /64: that is what one
    /// subscriber or host is given, and keying by the whole address let a holder of a /64 rotate through 2^64 buckets.
    /// </summary>
    public static string BucketKey(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>
    /// A <c>TrustedProxies</c> entry as the network it names: an address is a network of one. IPv4 is read only in its
    /// four-part dotted form, because the parser also takes <c>10</c> as 0.0.0.10 and <c>010.0.0.1</c> as 8.0.0.1, and
    /// a proxy named that way would silently trust some other host.
    /// </summary>
    public static bool TryParseProxy(string? entry, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(entry)) return false;
        var slash = entry.IndexOf('/', StringComparison.Ordinal);
        var addressPart = slash < 0 ? entry : entry[..slash];
        if (!IPAddress.TryParse(addressPart, out var address)) return false;
        if (address.AddressFamily == AddressFamily.InterNetwork && address.ToString() != addressPart) return false;
        if (slash < 0)
        {
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        return IPNetwork.TryParse(entry, out network);
    }

    /// <summary>
    /// The client address from <c>X-Forwarded-For</c>, only when the connection comes from one of <paramref name="proxies"/>,
    /// and only the address that proxy added (the header's last): the ones before it are whatever the client sent.
    /// </summary>
    public static ForwardedHeadersOptions ForwardedFrom(IEnumerable<IPNetwork> proxies)
    {
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = 1 };
        // The framework trusts loopback by default; only what is configured is trusted here.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in proxies) options.KnownIPNetworks.Add(proxy);
        return options;
    }

    /// <summary>
    /// Logs, once per process, the first request that carries <c>X-Forwarded-For</c> from a peer not named in
    /// <paramref name="proxies"/>. The header is ignored then, so the client address is the peer's: if the peer is the
    /// operator's proxy, every caller behind it shares its rate limits, which nothing else would show.
    /// </summary>
    public static void WarnOfUntrustedForwarding(this IApplicationBuilder app, IReadOnlyList<IPNetwork> proxies)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientAddresses).FullName!);
        var warned = 0;
        app.Use((context, next) =>
        {
            if (Volatile.Read(ref warned) == 0 && context.Request.Headers.ContainsKey(ForwardedHeadersDefaults.XForwardedForHeaderName)
                && context.Connection.RemoteIpAddress is { } peer && !IsTrusted(proxies, peer)
                && Interlocked.Exchange(ref warned, 1) == 0)
            {
                logger.LogWarning(
                    "A request from {Peer} carried X-Forwarded-For, which was ignored: {Peer} is not in AgentDesk:Gateway:TrustedProxies. If it is "
                    + "your proxy, name it there; until then every caller behind it shares its rate limits. (Logged once per process.)", peer, peer);
            }
            return next(context);
        });
    }

    /// <summary>As the forwarded-headers step decides it: an IPv4-mapped peer is trusted in either form.</summary>
    private static bool IsTrusted(IReadOnlyList<IPNetwork> proxies, IPAddress peer)
    {
        foreach (var proxy in proxies)
            if (proxy.Contains(peer) || (peer.IsIPv4MappedToIPv6 && proxy.Contains(peer.MapToIPv4()))) return true;
        return false;
    }
}
