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
    /// The rate-limit key of a client address. An IPv4 address is itself, however it arrives: as an IPv4-mapped IPv6
    /// address (what a dual-stack socket reports for an IPv4 client), or carried inside NAT64 (64:ff9b::/96), 6to4
    /// (2002::/16) or Teredo (2001::/32) addresses, where a single IPv4 address owns 2^80 or more IPv6 addresses and all
    /// of a NAT64 gateway's clients would otherwise share one /64. Any other IPv6 address counts by its /64, the block one
    /// subscriber or host is usually given: keyed by the whole address, a holder of a /64 could rotate through 2^64
    /// buckets.
    /// </summary>
    public static string BucketKey(IPAddress? address)
    {
        if (address is null) return "unknown";
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (EmbeddedIPv4(bytes) is { } ipv4) return ipv4.ToString();
        bytes[8..].Clear();
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>The IPv4 address inside a NAT64, 6to4 or Teredo address, or null for any other IPv6 address.</summary>
    private static IPAddress? EmbeddedIPv4(ReadOnlySpan<byte> v6)
    {
        // NAT64's well-known prefix 64:ff9b::/96: the IPv4 address is the last four bytes.
        if (v6[..12].SequenceEqual((ReadOnlySpan<byte>)[0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return new IPAddress(v6[12..]);
        // 6to4, 2002:AABB:CCDD::/48: the IPv4 address is the two groups after the prefix.
        if (v6[0] == 0x20 && v6[1] == 0x02) return new IPAddress(v6[2..6]);
        // Teredo, 2001:0::/32: the client's public IPv4 address is the last four bytes, each inverted.
        if (v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0 && v6[3] == 0)
            return new IPAddress([(byte)~v6[12], (byte)~v6[13], (byte)~v6[14], (byte)~v6[15]]);
        return null;
    }

    /// <summary>
    /// A <c>TrustedProxies</c> entry as the network it names: an address is a network of one. IPv4 is read only in its
    /// four-part dotted form, because the parser also takes <c>10</c> as 0.0.0.10 and <c>010.0.0.1</c> as 8.0.0.1, and
    /// a proxy named that way would silently trust some other host; and a network only with no bits set past its prefix.
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
        // A network whose address has bits set past its prefix (10.0.0.1/8) is read as the whole network; refused instead,
        // since it is as likely a typo for one host.
        return IPNetwork.TryParse(entry, out network) && network.BaseAddress.Equals(address);
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
    /// Logs a request that carries <c>X-Forwarded-For</c> from a peer not named in <paramref name="proxies"/>, as
    /// <see cref="ForwardingWarnings"/> decides (once per peer in ten minutes, at most 100 peers). The header is ignored
    /// then, so the client address is the peer's: if the peer is the operator's proxy, every caller behind it shares its
    /// rate limits, which nothing else would show. A client writing the header itself is logged the same way.
    /// </summary>
    public static void WarnOfUntrustedForwarding(this IApplicationBuilder app, IReadOnlyList<IPNetwork> proxies)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientAddresses).FullName!);
        var warnings = new ForwardingWarnings(app.ApplicationServices.GetRequiredService<TimeProvider>());
        app.Use((context, next) =>
        {
            if (context.Request.Headers.ContainsKey(ForwardedHeadersDefaults.XForwardedForHeaderName)
                && context.Connection.RemoteIpAddress is { } peer && !IsTrusted(proxies, peer))
            {
                var decision = warnings.Record(peer);
                if (decision != ForwardingWarnings.Decision.Quiet)
                {
                    logger.LogWarning(
                        "A request from {Peer} carried X-Forwarded-For, which was ignored: that address is not in AgentDesk:Gateway:TrustedProxies. "
                        + "If it is your proxy, name it there; until then every caller behind it shares its rate limits. (Logged once per address every ten minutes.)",
                        peer);
                }
                if (decision == ForwardingWarnings.Decision.LogLast)
                {
                    logger.LogWarning("X-Forwarded-For came from {Count} addresses not trusted in ten minutes; no more are logged until the next ten minutes.",
                        ForwardingWarnings.MaxPeersPerInterval);
                }
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
