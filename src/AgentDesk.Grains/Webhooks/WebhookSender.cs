using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.Http.Headers;
using System.Text;
using AgentDesk.Domain.Webhooks;
using AgentDesk.Grains.Options;
using Microsoft.Extensions.Options;

namespace AgentDesk.Grains.Webhooks;

/// <summary>The receiver's answer to one delivery: its status code, or why there was none.</summary>
public sealed record WebhookResponse(int? StatusCode, string? Error, TimeSpan Duration)
{
    public bool Delivered => StatusCode is >= 200 and < 300;
}

/// <summary>POSTs one event to a webhook's URL, signed.</summary>
public interface IWebhookSender
{
    Task<WebhookResponse> SendAsync(string url, string secret, long eventId, string eventType, string body, DateTimeOffset now);
}

/// <summary>
/// Deliveries over HTTP. Redirects are never followed (a 3xx is a failed delivery: a receiver moves by changing its
/// registration, not by pointing elsewhere), and every request is bounded by <see cref="WebhookOptions.TimeoutSeconds"/>.
/// </summary>
public sealed class HttpWebhookSender : IWebhookSender, IDisposable
{
    public const string EventIdHeader = "AgentDesk-Event-Id";
    public const string EventTypeHeader = "AgentDesk-Event-Type";

    private readonly HttpClient _http;

    public HttpWebhookSender(IOptions<WebhookOptions> options)
    {
        var timeout = options.Value.Timeout;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            // Never through a proxy (HTTP_PROXY and the like): the address check below would see only the proxy's address,
            // and the proxy would reach whatever the URL names, internal addresses included.
            UseProxy = false,
            ConnectTimeout = timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        // The address is checked when connecting, after the name is resolved: a name that resolves to an internal address
        // (or changes to one after registration) is refused as surely as a literal one.
        if (!options.Value.AllowPrivateAddresses) handler.ConnectCallback = ConnectToPublicAddressAsync;
        _http = new HttpClient(handler)
        {
            Timeout = timeout,
        };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("AgentDesk-Webhooks", "1"));
    }

    public async Task<WebhookResponse> SendAsync(string url, string secret, long eventId, string eventType, string body, DateTimeOffset now)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.TryAddWithoutValidation(WebhookSignatures.Header, WebhookSignatures.Sign(secret, now.ToUnixTimeSeconds(), body));
            request.Headers.TryAddWithoutValidation(EventIdHeader, eventId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation(EventTypeHeader, eventType);
            // Only the status matters; the body is not read.
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var status = (int)response.StatusCode;
            // The reason phrase is the receiver's text, up to a header's length: cut, as every error kept in the delivery log is.
            return new WebhookResponse(status, status is >= 200 and < 300 ? null : Truncate($"HTTP {status} {response.ReasonPhrase}"), watch.Elapsed);
        }
        catch (TaskCanceledException)
        {
            return new WebhookResponse(null, $"no answer within {_http.Timeout.TotalSeconds:0.#} s", watch.Elapsed);
        }
        catch (HttpRequestException e)
        {
            return new WebhookResponse(null, Truncate(e.InnerException?.Message ?? e.Message), watch.Elapsed);
        }
    }

    public void Dispose() => _http.Dispose();

    private static async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellation);
        if (addresses.Length == 0 || !addresses.All(PublicAddresses.IsPublic))
            throw new HttpRequestException($"refused: {host} resolves to a private, loopback or link-local address (AgentDesk:Webhooks:AllowPrivateAddresses)");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
