namespace AgentDesk.Testing;

/// <summary>A clock whose timestamps move only when the test says (for memories and intervals that age by them).</summary>
public sealed class SteppedClock : TimeProvider
{
    private long _timestamp = 1;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _timestamp, by.Ticks);
}
