namespace AgentDesk.Contracts.Common;

/// <summary>
/// Failures that come from the cluster rather than from the request: a silo that is gone or not yet declared dead,
/// a call that timed out, a connection refused. Waiting and retrying heals them; the gateway answers 503 with
/// Retry-After, and a batch leaves such a subscriber for its resume reminder.
/// </summary>
public static class ClusterFailures
{
    public static bool IsTransient(Exception e) => e switch
    {
        TimeoutException or SiloUnavailableException or OrleansMessageRejectionException or GatewayTooBusyException
            or ClientNotAvailableException or Orleans.Runtime.Messaging.ConnectionFailedException => true,
        // The database restarting or unreachable (StorageUnavailableException is how that crosses the grain boundary).
        StorageUnavailableException or System.Data.Common.DbException => true,
        // A grain that could not read its state while activating. Orleans reports that with this message, and the
        // driver's exception inside it is flattened into the text when it crosses to another silo.
        OrleansException { Message: var message } when message.StartsWith("Error from storage provider", StringComparison.Ordinal) => true,
        // Another activation of the grain wrote first (a silo declared dead that kept running): this one is discarded
        // and the retry reads the winner's state.
        Orleans.Storage.InconsistentStateException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        _ => e.InnerException is { } inner && IsTransient(inner),
    };
}
