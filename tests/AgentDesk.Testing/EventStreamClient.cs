using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace AgentDesk.Testing;

/// <summary>One server-sent message: an event (id, type, data) or a comment line.</summary>
public sealed record SseMessage(long? Id, string? Event, string? Data, string? Comment)
{
    public JsonNode Json => JsonNode.Parse(Data ?? throw new InvalidOperationException("A comment has no data."))!;
}

/// <summary>
/// A text/event-stream client as a browser's EventSource reads one: lines until a blank line make a message; lines
/// starting with ':' are comments. Messages are read in the background and taken with a deadline.
/// </summary>
public sealed class EventStreamClient : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<SseMessage> _messages = Channel.CreateUnbounded<SseMessage>();
    private readonly Task _reader;
    private bool _disposed;

    private EventStreamClient(HttpResponseMessage response)
    {
        _response = response;
        _reader = Task.Run(ReadAsync);
    }

    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    /// <summary>Opens the stream; fails the test unless the server answers 200 text/event-stream.</summary>
    public static async Task<EventStreamClient> OpenAsync(HttpClient http, string path, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if ((int)response.StatusCode != 200)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            Assert.Fail($"expected 200 text/event-stream from {path}, got {(int)response.StatusCode}: {body}");
        }
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new EventStreamClient(response);
    }

    /// <summary>The next message (event or comment), or a timeout failure.</summary>
    public async Task<SseMessage> NextAsync(TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return await _messages.Reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No server-sent message within {timeout.TotalSeconds} s.");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The server closed the stream.");
        }
    }

    /// <summary>Events (comments skipped) until <paramref name="done"/> holds for the events so far.</summary>
    public async Task<List<SseMessage>> EventsUntilAsync(Func<List<SseMessage>, bool> done, TimeSpan timeout, string what)
    {
        var events = new List<SseMessage>();
        var deadline = DateTime.UtcNow + timeout;
        while (!done(events))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"Timed out waiting for {what}; got {events.Count} events: {string.Join(", ", events.Select(e => $"{e.Id}:{e.Event}"))}");
            SseMessage next;
            try
            {
                next = await NextAsync(left);
            }
            catch (TimeoutException)
            {
                continue;
            }
            if (next.Comment is null) events.Add(next);
        }
        return events;
    }

    private async Task ReadAsync()
    {
        try
        {
            await using var stream = await _response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(stream);
            long? id = null;
            string? type = null;
            var data = new List<string>();
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Count > 0 || type is not null) await _messages.Writer.WriteAsync(new SseMessage(id, type, string.Join('\n', data), null));
                    id = null;
                    type = null;
                    data.Clear();
                }
                else if (line[0] == ':') await _messages.Writer.WriteAsync(new SseMessage(null, null, null, line[1..].Trim()));
                else if (line.StartsWith("id:", StringComparison.Ordinal)) id = long.Parse(line[3..].Trim(), CultureInfo.InvariantCulture);
                else if (line.StartsWith("event:", StringComparison.Ordinal)) type = line[6..].Trim();
                else if (line.StartsWith("data:", StringComparison.Ordinal)) data.Add(line[5..].TrimStart());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException || _stop.IsCancellationRequested)
        {
            // Closed by the server, or by the test (whatever the reader then meets, even before it started reading).
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stop.CancelAsync();
        _response.Dispose();
        await _reader;
        _stop.Dispose();
    }
}
