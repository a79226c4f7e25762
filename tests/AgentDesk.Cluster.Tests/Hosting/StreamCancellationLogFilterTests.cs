using AgentDesk.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Cluster.Tests.Hosting;

/// <summary>
/// The silo's log: a stream-queue read cancelled because its queue moved to another silo is not an error, and is not
/// logged; any other error of the same Orleans categories still is.
/// </summary>
public sealed class StreamCancellationLogFilterTests
{
    // The categories Orleans 10 logs these under (memory-stream receiver per provider and queue; pulling agent per provider).
    private const string Receiver = "Orleans.Providers.MemoryAdapterReceiver`1[[Orleans.Providers.DefaultMemoryMessageBodySerializer, Orleans.Streaming, "
        + "Version=10.0.0.0, Culture=neutral, PublicKeyToken=null]].prices.prices-2";
    private const string PullingAgent = "Orleans.Streams.prices";

    [Fact]
    public void Cancelled_queue_reads_are_dropped_and_every_other_error_is_kept()
    {
        var written = new List<(string Category, LogLevel Level, Exception? Exception)>();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(new CapturingProvider(written)).SetMinimumLevel(LogLevel.Warning));
        services.AddStreamCancellationLogFilter();
        using var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<ILoggerFactory>();

        factory.CreateLogger(Receiver).LogError(new OperationCanceledException(), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
        factory.CreateLogger(PullingAgent).LogError(new TaskCanceledException(), "Exception while retrying the 0th time reading from queue prices-2");
        factory.CreateLogger(Receiver).LogError(new TimeoutException("queue grain did not answer"), "Exception thrown in MemoryAdapterFactory.GetQueueMessagesAsync.");
        factory.CreateLogger(PullingAgent).LogError(new InvalidOperationException("broken"), "Exception while reading from queue prices-2");
        factory.CreateLogger(PullingAgent).LogWarning("a warning without an exception");
        factory.CreateLogger("AgentDesk.Grains.Prices.PriceFeedGrain").LogError(new OperationCanceledException(), "a cancellation elsewhere");
        provider.GetRequiredService<ILogger<StreamCancellationLogFilterTests>>().LogError(new OperationCanceledException(), "through ILogger<T>");

        Assert.Equal(
        [
            (Receiver, LogLevel.Error, typeof(TimeoutException)),
            (PullingAgent, LogLevel.Error, typeof(InvalidOperationException)),
            (PullingAgent, LogLevel.Warning, null),
            ("AgentDesk.Grains.Prices.PriceFeedGrain", LogLevel.Error, typeof(OperationCanceledException)),
            (typeof(StreamCancellationLogFilterTests).FullName!, LogLevel.Error, typeof(OperationCanceledException)),
        ], written.Select(w => (w.Category, w.Level, w.Exception?.GetType())));
    }

    private sealed class CapturingProvider(List<(string, LogLevel, Exception?)> written) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Capturing(written, categoryName);

        public void Dispose()
        {
        }

        private sealed class Capturing(List<(string, LogLevel, Exception?)> written, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (written) written.Add((category, logLevel, exception));
            }
        }
    }
}
