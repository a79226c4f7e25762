namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>The platform's own price guard (20% band) and a short staleness window, for the price tests.</summary>
public sealed class GuardedPricesFixture : GatewayFixture
{
    protected override int MaxJumpBps => 2_000;
    protected override IEnumerable<string> ExtraSettings => ["--AgentDesk:Prices:MaxAgeSeconds", "2"];
}

/// <summary>Small rate limits, to see them apply.</summary>
public sealed class StrictRatesFixture : GatewayFixture
{
    protected override int PermitsPerSecond => 50;
    protected override int AnonymousPermitsPerSecond => 5;
}
