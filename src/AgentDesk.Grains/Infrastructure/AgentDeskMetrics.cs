using System.Diagnostics.Metrics;

namespace AgentDesk.Grains.Infrastructure;

/// <summary>The project's own meters (meter name <c>AgentDesk</c>), exported with OpenTelemetry by silos and gateways.</summary>
public static class AgentDeskMetrics
{
    public const string MeterName = "AgentDesk";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> ExitsFired = Meter.CreateCounter<long>("agentdesk.exits.fired", "{exit}", "Automatic exits filled and stored (ladder rungs, stop/target prices, trailing stops).");

    public static readonly Histogram<double> TickToExit = Meter.CreateHistogram<double>("agentdesk.exits.tick_to_exit", "ms", "Time from a price tick until the exit it triggered is filled and stored.");

    public static readonly Histogram<double> FanOutDuration = Meter.CreateHistogram<double>("agentdesk.batches.fanout_duration", "ms", "Time for a batch to reach every subscriber.");

    public static readonly Counter<long> Intents = Meter.CreateCounter<long>("agentdesk.intents", "{intent}", "Signed intents by outcome code.");

    public static readonly Counter<long> UnknownKeys = Meter.CreateCounter<long>("agentdesk.auth.unknown_keys", "{request}",
        "Requests with an API key the key directory does not know (keys over 128 characters are not counted), by outcome: looked_up (refused by the directory), refused_before (refused again without a lookup), limited (a new key over its address's limit, answered 429 without a lookup).");
}
