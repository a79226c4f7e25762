using System.Net;
using System.Net.Sockets;
using AgentDesk.Gateway.Access;
using AgentDesk.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Decision = AgentDesk.Gateway.Access.ForwardingWarnings.Decision;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>
/// The one sign a gateway has that its client address has collapsed to a proxy's: <c>X-Forwarded-For</c> from a peer it
/// does not trust. It is logged once per peer every ten minutes, so an operator who forgot <c>TrustedProxies</c> sees it
/// without a log flood.
/// </summary>
public sealed class ForwardingWarningTests
{
    // Which requests are logged, with a clock the test moves (the tests below log over HTTP).
    [Fact]
    public void Each_peer_is_logged_once_an_interval_and_an_interval_logs_at_most_its_cap_of_peers()
    {
        var clock = new SteppedClock();
        var warnings = new ForwardingWarnings(clock);
        Assert.Equal(Decision.Log, warnings.Record(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(Decision.Quiet, warnings.Record(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(Decision.Quiet, warnings.Record(IPAddress.Parse("2001:db8:1:2:ffff::9"))); // the same /64

        // 98 more peers are logged, the one that makes 100 with a last line, and none after it.
        for (var i = 1; i <= 98; i++) Assert.Equal(Decision.Log, warnings.Record(IPAddress.Parse($"198.51.100.{i}")));
        Assert.Equal(Decision.LogLast, warnings.Record(IPAddress.Parse("203.0.113.1")));
        Assert.Equal(Decision.Quiet, warnings.Record(IPAddress.Parse("203.0.113.2")));

        clock.Advance(ForwardingWarnings.Interval - TimeSpan.FromSeconds(1));
        Assert.Equal(Decision.Quiet, warnings.Record(IPAddress.Parse("203.0.113.3")));
        Assert.Equal(Decision.Quiet, warnings.Record(IPAddress.Parse("2001:db8:1:2::1")));
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Decision.Log, warnings.Record(IPAddress.Parse("2001:db8:1:2::1")));
        Assert.Equal(Decision.Log, warnings.Record(IPAddress.Parse("203.0.113.3")));
    }

    [Theory]
    [InlineData(null, true)] // no proxy named: the tests' loopback connection is not trusted
    [InlineData("10.0.0.0/8", true)] // a proxy named, and the tests' connection is not it
    [InlineData("127.0.0.1", false)] // the tests' connection is the proxy: nothing to warn of
    public async Task X_forwarded_for_from_a_peer_not_trusted_is_logged_once_naming_the_peer_and_the_setting(string? trustedProxy, bool warns)
    {
        var warnings = new List<string>();
        var gateway = new WatchedGateway(trustedProxy, warnings);
        await gateway.InitializeAsync();
        try
        {
            using var http = gateway.Client();
            Assert.Equal(200, (int)(await http.GetAsync("/health/live")).StatusCode);
            Assert.Empty(warnings);
            for (var i = 0; i < 3; i++)
            {
                using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/health/live");
                forwarded.Headers.Add("X-Forwarded-For", "203.0.113.50");
                Assert.Equal(200, (int)(await http.SendAsync(forwarded)).StatusCode);
            }

            if (!warns)
            {
                Assert.Empty(warnings);
            }
            else
            {
                var warning = Assert.Single(warnings);
                Assert.Contains("127.0.0.1", warning, StringComparison.Ordinal);
                Assert.Contains("AgentDesk:Gateway:TrustedProxies", warning, StringComparison.Ordinal);

                // Another peer is warned of on its own: one client writing the header does not silence the others.
                using var fromAnotherPeer = new HttpClient(From(IPAddress.Parse("127.0.0.2"))) { BaseAddress = http.BaseAddress };
                using var forwarded = new HttpRequestMessage(HttpMethod.Get, "/health/live");
                forwarded.Headers.Add("X-Forwarded-For", "203.0.113.51");
                Assert.Equal(200, (int)(await fromAnotherPeer.SendAsync(forwarded)).StatusCode);
                Assert.Equal(2, warnings.Count);
                Assert.Contains("127.0.0.2", warnings[1], StringComparison.Ordinal);
            }
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    /// <summary>The tests' gateway, trusting <paramref name="trustedProxy"/> if any, with the client-address warnings kept in <paramref name="warnings"/>.</summary>
    private sealed class WatchedGateway(string? trustedProxy, List<string> warnings) : GatewayFixture
    {
        protected override IEnumerable<string> ExtraSettings => trustedProxy is null ? [] : ["--AgentDesk:Gateway:TrustedProxies:0", trustedProxy];

        protected override void Configure(WebApplicationBuilder builder) =>
            builder.Logging.AddProvider(new WarningsOf(typeof(Access.ClientAddresses).FullName!, warnings));
    }

    /// <summary>A handler whose connections leave from <paramref name="source"/> (any 127.x address is this host's loopback).</summary>
    private static SocketsHttpHandler From(IPAddress source) => new()
    {
        ConnectCallback = async (context, cancellation) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(source, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    private sealed class WarningsOf(string category, List<string> written) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => categoryName == category ? new Capturing(written) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class Capturing(List<string> written) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                lock (written) written.Add(formatter(state, exception));
            }
        }
    }
}
