using AgentDesk.Domain.Exits;

namespace AgentDesk.Domain.Tests.Exits;

public class ExitRetryTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    [Fact]
    public void A_refused_exit_waits_the_period_then_twice_as_long_after_each_further_refusal_up_to_an_hour()
    {
        var delays = Enumerable.Range(1, 10).Select(refusals => ExitRetry.Delay(Minute, refusals).TotalMinutes).ToArray();
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60, 60], delays);
        // A refusal that spent no order id (venue_unavailable before any other) still waits the period.
        Assert.Equal(Minute, ExitRetry.Delay(Minute, 0));
        // However many refusals, never longer than an hour, nor shorter than the period.
        Assert.Equal(ExitRetry.LongestDelay, ExitRetry.Delay(TimeSpan.FromSeconds(2), int.MaxValue));
        Assert.Equal(TimeSpan.FromHours(2), ExitRetry.Delay(TimeSpan.FromHours(2), 5));
    }
}
