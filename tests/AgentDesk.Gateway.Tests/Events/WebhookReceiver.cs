using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Events;

/// <summary>One delivery as the receiver saw it.</summary>
public sealed record ReceivedEvent(long Id, string Type, string HeaderEventId, JsonNode Body, string RawBody);

/// <summary>
/// A webhook receiver on loopback, as a customer would write one: it checks the AgentDesk-Signature header itself (HMAC-SHA256
/// of "t.body" with the shared secret, t within five minutes), answers with <see cref="Answer"/>, and can be taken down
/// (connections refused) and brought back on the same port.
/// </summary>
public sealed class WebhookReceiver(string secret) : IAsyncDisposable
{
    private HttpListener? _listener;
    private Task? _loop;

    public int Port { get; } = Ports.Next();
    public string Url => $"http://127.0.0.1:{Port}/hooks/agentdesk";
    public ConcurrentQueue<ReceivedEvent> Received { get; } = new();
    private int _badSignatures;

    /// <summary>Deliveries whose signature did not check out (answered 400).</summary>
    public int BadSignatures => _badSignatures;

    /// <summary>The status to answer for a delivery (200 unless a test says otherwise).</summary>
    public Func<JsonNode, int> Answer { get; set; } = _ => 200;

    /// <summary>The status line's reason phrase, when a test wants a receiver's own text there.</summary>
    public string? ReasonPhrase { get; set; }

    /// <summary>Sent as Location with a 3xx answer: where a client that follows redirects would go.</summary>
    public string? RedirectTo { get; set; }

    /// <summary>Every request that arrived, accepted or not.</summary>
    public int Requests => _requests;

    private int _requests;

    public void Start()
    {
        _listener = new HttpListener();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        var listener = _listener;
        _loop = Task.Run(() => ServeAsync(listener));
    }

    public async Task StopAsync()
    {
        if (_listener is null) return;
        _listener.Stop();
        _listener.Close();
        _listener = null;
        await _loop!;
    }

    /// <summary>Distinct event ids in the order they first arrived.</summary>
    public List<long> DistinctIds() => Received.Select(r => r.Id).Distinct().ToList();

    private async Task ServeAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            Interlocked.Increment(ref _requests);
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var status = 400;
            if (Verified(context.Request.Headers["AgentDesk-Signature"], body))
            {
                var json = JsonNode.Parse(body)!;
                status = Answer(json);
                if (status is >= 200 and < 300)
                    Received.Enqueue(new ReceivedEvent(json["id"]!.GetValue<long>(), json["type"]!.GetValue<string>(), context.Request.Headers["AgentDesk-Event-Id"] ?? "", json, body));
            }
            else
            {
                Interlocked.Increment(ref _badSignatures);
            }
            context.Response.StatusCode = status;
            if (ReasonPhrase is not null) context.Response.StatusDescription = ReasonPhrase;
            if (status is >= 300 and < 400 && RedirectTo is not null) context.Response.RedirectLocation = RedirectTo;
            context.Response.Close();
        }
    }

    private bool Verified(string? header, string body)
    {
        var parts = (header ?? "").Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)) return false;
        if (Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(t, CultureInfo.InvariantCulture)) > 300) return false;
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{body}")));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
    }

    public async ValueTask DisposeAsync() => await StopAsync();
}
