using AgentDesk.Grains.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace AgentDesk.Silo.Hosting;

/// <summary>
/// OpenTelemetry for silos and gateways alike (docs/operations.md, "Monitoring"): traces of grain calls (and HTTP on
/// gateways), the project's meters and Orleans' own, and logs. They go over OTLP when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set and nowhere otherwise; <c>AgentDesk:Telemetry:Console=true</c> adds a
/// console exporter for a developer who wants to watch them. The console itself stays quiet by default: Orleans
/// and ASP.NET Core log warnings and above unless configured otherwise.
/// </summary>
public static class Telemetry
{
    public static void AddAgentDeskTelemetry(this IHostApplicationBuilder builder, string serviceName,
        Action<TracerProviderBuilder>? tracing = null, Action<MeterProviderBuilder>? metrics = null)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var console = builder.Configuration.GetValue("AgentDesk:Telemetry:Console", false);
        // Warnings and above unless Logging:LogLevel says otherwise (a configured rule wins over the minimum).
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        // Stream queues moving between silos cancel reads in flight, which Orleans logs as errors: not a failure.
        builder.Services.AddStreamCancellationLogFilter();
        if (otlp)
        {
            builder.Logging.AddOpenTelemetry(o =>
            {
                o.IncludeFormattedMessage = true;
                o.AddOtlpExporter();
            });
        }
        if (!otlp && !console) return;

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? serviceName))
            .WithTracing(t =>
            {
                t.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application");
                tracing?.Invoke(t);
                if (otlp) t.AddOtlpExporter();
                if (console) t.AddConsoleExporter();
            })
            .WithMetrics(m =>
            {
                m.AddMeter("Microsoft.Orleans", AgentDeskMetrics.MeterName);
                metrics?.Invoke(m);
                if (otlp) m.AddOtlpExporter();
                if (console) m.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 60_000);
            });
    }
}
