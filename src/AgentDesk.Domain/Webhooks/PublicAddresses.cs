using System.Net;
using System.Net.Sockets;

namespace AgentDesk.Domain.Webhooks;

/// <summary>
/// Which addresses a webhook may be delivered to by default: public unicast ones. Loopback, private (RFC 1918, unique
/// local), link-local (cloud metadata services live there), carrier-grade NAT, benchmarking, multicast and unspecified
/// addresses are refused, so one tenant's webhook cannot make the silos call into the network they run in.
/// </summary>
public static class PublicAddresses
{
    private static readonly byte[] Nat64WellKnown = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];

    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224
                || (b[0] == 100 && b[1] is >= 64 and < 128)
                || (b[0] == 169 && b[1] == 254)
                || (b[0] == 172 && b[1] is >= 16 and < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] is 0 or 2)
                || (b[0] == 198 && b[1] is 18 or 19)
                || (b[0] == 198 && b[1] == 51 && b[2] == 100)
                || (b[0] == 203 && b[1] == 0 && b[2] == 113));
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return false;
        var bytes = address.GetAddressBytes();
        // Forms that carry an IPv4 address and reach it through a translator or relay are judged by that address:
        // IPv4-compatible (::/96, deprecated), NAT64's well-known prefix (64:ff9b::/96) and 6to4 (2002::/16).
        if (bytes.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !IPAddress.IPv6Loopback.Equals(address) && !IPAddress.IPv6Any.Equals(address))
            return IsPublic(new IPAddress(bytes.AsSpan(12, 4)));
        if (bytes.AsSpan(0, 12).SequenceEqual(Nat64WellKnown)) return IsPublic(new IPAddress(bytes.AsSpan(12, 4)));
        if (bytes[0] == 0x20 && bytes[1] == 0x02) return IsPublic(new IPAddress(bytes.AsSpan(2, 4)));
        // NAT64 for a network's own use (64:ff9b:1::/48) only ever leads inside it.
        if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && bytes[4] == 0x00 && bytes[5] == 0x01) return false;
        if (IPAddress.IPv6Loopback.Equals(address) || IPAddress.IPv6None.Equals(address) || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal
            || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || address.IsIPv6Teredo) return false;
        return !(bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0d && bytes[3] == 0xb8); // documentation range
    }
}
