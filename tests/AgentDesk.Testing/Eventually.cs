namespace AgentDesk.Testing;

/// <summary>Waiting on an observable fact with a deadline, never a fixed sleep.</summary>
public static class Eventually
{
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out waiting for {what ?? "a condition"}; last value: {value}");
            await Task.Delay(20);
        }
    }

    /// <summary>Like <see cref="WaitForAsync{T}"/>, treating the given exceptions as "not yet" (a silo still being declared dead, say).</summary>
    public static async Task<T> WaitThroughAsync<T>(Func<Task<T>> read, Func<T, bool> done, Func<Exception, bool> transient, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                var value = await read();
                if (done(value)) return value;
            }
            catch (Exception e) when (transient(e))
            {
                last = e;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Timed out waiting for {what}.", last);
    }
}
