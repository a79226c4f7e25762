using AgentDesk.Domain.Prices;

namespace AgentDesk.Domain.Tests.Prices;

public sealed class PriceGuardTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly PricePolicy Policy = new(2_000, TimeSpan.FromMinutes(5));

    [Fact]
    public void Only_a_later_reading_confirms_a_held_tick()
    {
        var state = new GuardedPrice(new PriceQuote(100m, T0), null);
        var (held, decision) = PriceGuard.Apply(state, new PriceQuote(1m, T0.AddSeconds(1)), Policy);
        Assert.Equal(TickDecision.Held, decision);

        // The same reading again (every silo pushes each chain round; a restarted silo reads the round again) proves nothing.
        var (again, repeated) = PriceGuard.Apply(held, new PriceQuote(1m, T0.AddSeconds(1)), Policy);
        Assert.Equal((TickDecision.Ignored, held), (repeated, again));
        // Nor does an older reading (a lagging node's round), near the held price or near the accepted one: the held tick stays.
        Assert.Equal((held, TickDecision.Ignored), PriceGuard.Apply(held, new PriceQuote(1.1m, T0), Policy));
        Assert.Equal((held, TickDecision.Ignored), PriceGuard.Apply(held, new PriceQuote(100m, T0.AddSeconds(0.5)), Policy));
        Assert.Equal((state, TickDecision.Ignored), PriceGuard.Apply(state, new PriceQuote(101m, T0.AddSeconds(-1)), Policy));
        Assert.Equal((state, TickDecision.Ignored), PriceGuard.Apply(state, new PriceQuote(100m, T0), Policy));

        var (confirmed, confirmation) = PriceGuard.Apply(held, new PriceQuote(1.05m, T0.AddSeconds(2)), Policy);
        Assert.Equal(TickDecision.Confirmed, confirmation);
        Assert.Equal(new GuardedPrice(new PriceQuote(1.05m, T0.AddSeconds(2)), null), confirmed);
    }

    [Fact]
    public void New_exposure_waits_while_a_tick_is_held()
    {
        Assert.Null(PriceGuard.CheckNotHeld(null, "SOL"));
        var refused = PriceGuard.CheckNotHeld(1m, "SOL")!;
        Assert.Equal("price_held", refused.Code.Code);
    }
}
