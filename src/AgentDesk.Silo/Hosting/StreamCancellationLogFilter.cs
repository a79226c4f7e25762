using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentDesk.Silo.Hosting;

/// <summary>
/// Keeps Orleans' stream-queue rebalancing out of the error log. Prices travel on memory streams whose queues are
/// spread over the silos; when a silo joins, leaves or stops, the queue balancer moves queues, and the pulling agent
/// that gives a queue up cancels its read in flight. Orleans then logs that <see cref="OperationCanceledException"/>
/// twice at Error level with a stack trace — once in the memory-stream receiver
/// (<c>Orleans.Providers.MemoryAdapterReceiver`1[…].{provider}.{queue}</c>) and once in the pulling agent
/// (<c>Orleans.Streams.{provider}</c>) — although nothing failed: the queue is read by its new owner. This filter
/// drops exactly those entries: in those two categories, a log entry whose exception is a cancellation. Every other
/// entry of those categories, including any other exception, is still logged.
/// </summary>
public static class StreamCancellationLogFilter
{
    private const string ReceiverCategory = "Orleans.Providers.MemoryAdapterReceiver";
    private const string PullingAgentCategory = "Orleans.Streams.";

    /// <summary>Wraps the host's logger factory (silos and gateways alike; a gateway may co-host a silo).</summary>
    public static void AddStreamCancellationLogFilter(this IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new FilteringLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(), sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(), sp.GetService<IExternalScopeProvider>()))));

    /// <summary>Whether an entry is the expected cancellation of a stream-queue read (and so not logged).</summary>
    public static bool IsExpected(string category, Exception? exception) => exception is OperationCanceledException && IsStreamQueueCategory(category);

    private static bool IsStreamQueueCategory(string category) =>
        category.StartsWith(ReceiverCategory, StringComparison.Ordinal) || category.StartsWith(PullingAgentCategory, StringComparison.Ordinal);

    /// <summary>A logger factory whose stream-queue loggers skip the expected cancellations.</summary>
    public sealed class FilteringLoggerFactory(ILoggerFactory inner) : ILoggerFactory
    {
        public ILogger CreateLogger(string categoryName)
        {
            var logger = inner.CreateLogger(categoryName);
            return IsStreamQueueCategory(categoryName) ? new FilteringLogger(logger, categoryName) : logger;
        }

        public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

        public void Dispose() => inner.Dispose();
    }

    private sealed class FilteringLogger(ILogger inner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsExpected(category, exception)) return;
            inner.Log(logLevel, eventId, state, exception, formatter);
        }
    }
}
