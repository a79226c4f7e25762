namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>The platform's own price guard (20% band) and a short staleness window, for the price tests.</summary>
public sealed class GuardedPricesFixture : GatewayFixture
{
    protected override int MaxJumpBps => 2_000;
    protected override IEnumerable<string> ExtraSettings => ["--AgentDesk:Prices:MaxAgeSeconds", "2"];
}

/// <summary>
/// Small rate limits, to see them apply. The tests' own address is a trusted proxy, so a test speaks for a client address of
/// its own with <c>X-Forwarded-For</c> (<see cref="RateLimitTests"/>).
/// </summary>
public sealed class StrictRatesFixture : GatewayFixture
{
    protected override int PermitsPerSecond => 50;
    protected override int AnonymousPermitsPerSecond => 5;
    protected override IEnumerable<string> ExtraSettings => ["--AgentDesk:Gateway:TrustedProxies:0", "127.0.0.1", "--AgentDesk:RateLimit:NewKeysPerSecond", "20"];
}

/// <summary>The same small limits with no trusted proxy: <c>X-Forwarded-For</c> must change nothing.</summary>
public sealed class StrictRatesWithoutProxyFixture : GatewayFixture
{
    protected override int PermitsPerSecond => 50;
    protected override int AnonymousPermitsPerSecond => 5;
}
