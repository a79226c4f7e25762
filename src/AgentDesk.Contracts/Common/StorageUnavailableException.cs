namespace AgentDesk.Contracts.Common;

/// <summary>
/// A grain's database could not be reached or broke off a write (it restarted, say). The grain that failed reloads
/// its state before its next call; the same request again, idempotent by its key, succeeds once the database is back.
/// Database drivers' own exceptions do not cross the grain boundary (they cannot be serialised); this one does.
/// </summary>
[GenerateSerializer, Alias("agentdesk.storage-unavailable")]
public sealed class StorageUnavailableException : Exception
{
    public StorageUnavailableException()
    {
    }

    public StorageUnavailableException(string message) : base(message)
    {
    }

    public StorageUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
