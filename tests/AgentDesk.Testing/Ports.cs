using System.Net;
using System.Net.Sockets;

namespace AgentDesk.Testing;

/// <summary>
/// Ports for servers that must be told their port up front (Orleans silo and gateway ports). HTTP servers bind port 0
/// and report theirs instead. Ports are handed out in increasing order from a range chosen per test process, and
/// each is checked bindable, so two servers of one run never get the same port even if the OS would recycle it.
/// </summary>
public static class Ports
{
    private static int _next = 20_000 + Environment.ProcessId % 200 * 100;

    public static int Next()
    {
        for (var attempts = 0; attempts < 1_000; attempts++)
        {
            var port = Interlocked.Increment(ref _next);
            if (port > 60_000) Interlocked.Exchange(ref _next, 20_000);
            if (IsFree(port)) return port;
        }
        throw new InvalidOperationException("No free port found.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Any, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
