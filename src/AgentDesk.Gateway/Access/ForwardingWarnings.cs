using System.Net;

namespace AgentDesk.Gateway.Access;

/// <summary>
/// Which requests with <c>X-Forwarded-For</c> from a peer not trusted are logged (<see cref="ClientAddresses.WarnOfUntrustedForwarding"/>):
/// the first from each peer (an IPv6 peer per /64, as the rate limits count it) in each ten-minute interval, for at most
/// 100 peers an interval. A client sending the header from more than 100 addresses (a /56 holds 256 /64s) in an interval
/// can use up its warnings; the request that reaches the cap is logged with a last line saying so.
/// </summary>
public sealed class ForwardingWarnings(TimeProvider clock)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    /// <summary>Peers warned of in one interval at most: a client sending from many addresses cannot flood the log.</summary>
    public const int MaxPeersPerInterval = 100;

    public enum Decision
    {
        /// <summary>Not logged: this peer was, or the interval's warnings are used up.</summary>
        Quiet,

        /// <summary>Logged: the peer's first in this interval.</summary>
        Log,

        /// <summary>Logged, and the interval's warnings are used up with it.</summary>
        LogLast,
    }

    private readonly long _interval = (long)(Interval.TotalSeconds * clock.TimestampFrequency);
    private readonly Lock _gate = new();
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal); // this interval's peers, under _gate
    private long _intervalEnds = long.MinValue;

    /// <summary>Records a request with the header from <paramref name="peer"/>, and says whether it is logged.</summary>
    public Decision Record(IPAddress peer)
    {
        var now = clock.GetTimestamp();
        lock (_gate)
        {
            if (now >= _intervalEnds)
            {
                _warned.Clear();
                _intervalEnds = now + _interval;
            }
            if (_warned.Count >= MaxPeersPerInterval || !_warned.Add(ClientAddresses.BucketKey(peer))) return Decision.Quiet;
            return _warned.Count == MaxPeersPerInterval ? Decision.LogLast : Decision.Log;
        }
    }
}
