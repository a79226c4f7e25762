using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>Who may move prices, and what a price may be: bounds, outliers held until confirmed, stale prices.</summary>
public sealed class PriceTests(GuardedPricesFixture gateway) : IClassFixture<GuardedPricesFixture>
{
    private static object Push(string symbol, string price) => new { prices = new[] { new { symbol, priceUsd = price } } };

    [Fact]
    public async Task Only_oracle_keys_and_the_admin_publish_prices()
    {
        var symbol = TestData.NewSymbol();
        using var operatorKey = await gateway.KeyAsync("operator", TestData.NewOrganization("P"));
        using var oracle = await gateway.KeyAsync("oracle", TestData.NewOrganization("O"));
        await operatorKey.PostAsync("/api/v1/prices", Push(symbol, "1")).ProblemAsync(403, "forbidden");
        Assert.Empty((await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]!.AsArray());
        await oracle.PostAsync("/api/v1/prices", Push(symbol, "100")).OkAsync();
        await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "101")).OkAsync();
        Assert.Equal(101m, (await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]![0]!["priceUsd"]!.GetValue<decimal>());
    }

    [Theory]
    [InlineData("0.0000000000000000000000000001")]
    [InlineData("0.0000000000009")]
    [InlineData("1000000000000.01")]
    [InlineData("0")]
    public async Task A_price_outside_the_bounds_is_refused_and_publishes_nothing(string price)
    {
        var symbol = TestData.NewSymbol();
        await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, price)).ProblemAsync(400, "invalid_price");
        Assert.Empty((await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]!.AsArray());
    }

    [Fact]
    public async Task An_outlier_is_held_fires_no_stop_and_is_accepted_only_when_confirmed_or_by_the_admin()
    {
        var symbol = TestData.NewSymbol();
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("G")));
        var agent = await world.AgentAsync();
        await world.AccountAsync("100", subscribeTo: agent);
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        await world.BatchOpenAsync(agent, symbol, stopLoss: 90);

        // One bad tick at 1 would fire the stop at 90: it is held instead, and the price stays 100. (100 is pushed again
        // first so that it is still fresh, under this fixture's 2 s, when the batch-open below is refused for the held one.)
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        var held = await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "1")).OkAsync();
        Assert.Equal("held", held["prices"]![0]!["decision"]!.GetValue<string>());
        var quote = (await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]![0]!;
        Assert.Equal(100m, quote["priceUsd"]!.GetValue<decimal>());
        Assert.Equal(1m, quote["heldPriceUsd"]!.GetValue<decimal>());
        // While it is held, nothing new opens at the old price (the held one is public); closes and exits go on.
        var refused = await world.Http.PostAsync("/agent/batch-open", new { agentId = agent, symbol, action = "LONG", weight = 10, leverage = 2 }).ProblemAsync(409, "price_held");
        Assert.Equal("1", refused["heldPriceUsd"]!.ToString());
        // One push names a symbol once: a second reading in the same push would confirm the first.
        await gateway.Http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol, priceUsd = "1" }, new { symbol = symbol.ToLowerInvariant(), priceUsd = "1" } } })
            .ProblemAsync(400, "invalid_prices");
        Assert.Equal(100m, (await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]![0]!["priceUsd"]!.GetValue<decimal>());
        // A tick back in the band drops the outlier; the position, evaluated at it, is still open.
        Assert.Equal("accepted", (await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "95")).OkAsync())["prices"]![0]!["decision"]!.GetValue<string>());
        Assert.Null((await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]![0]!["heldPriceUsd"]);
        Assert.Single((await world.Http.GetJsonAsync($"/api/v1/agent-positions/{agent}").OkAsync()).AsArray());

        // A real move: a second tick within the band of the held one confirms it.
        Assert.Equal("held", (await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "150")).OkAsync())["prices"]![0]!["decision"]!.GetValue<string>());
        Assert.Equal("confirmed", (await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "151")).OkAsync())["prices"]![0]!["decision"]!.GetValue<string>());
        Assert.Equal(151m, (await gateway.Http.GetJsonAsync($"/prices?symbols={symbol}").OkAsync())["prices"]![0]!["priceUsd"]!.GetValue<decimal>());

        // Or the admin accepts a held tick; then the stop fires on it.
        Assert.Equal("held", (await gateway.Http.PostAsync("/api/v1/prices", Push(symbol, "80")).OkAsync())["prices"]![0]!["decision"]!.GetValue<string>());
        using var oracle = await gateway.KeyAsync("oracle", TestData.NewOrganization("O"));
        await oracle.PostAsync($"/api/v1/prices/{symbol}/accept-held", new { }).ProblemAsync(403, "forbidden");
        Assert.Equal(80m, (await gateway.Http.PostAsync($"/api/v1/prices/{symbol}/accept-held", new { }).OkAsync())["priceUsd"]!.GetValue<decimal>());
        await Eventually.WaitForAsync(async () => (await world.Http.GetJsonAsync($"/api/v1/agent-positions/{agent}").OkAsync()).AsArray().Count, c => c == 0,
            what: "the stop to fire on the accepted price");
        await gateway.Http.PostAsync($"/api/v1/prices/{symbol}/accept-held", new { }).ProblemAsync(404, "no_held_price");
    }

    [Fact]
    public async Task A_stale_price_refuses_new_trades_while_exits_keep_using_it()
    {
        var symbol = TestData.NewSymbol();
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("S")));
        var agent = await world.AgentAsync();
        var account = await world.AccountAsync("100", subscribeTo: agent);
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
        var opened = await world.BatchOpenAsync(agent, symbol);
        Assert.Equal(1, opened["successful"]!.GetValue<int>());

        // This fixture's prices are stale after 2 s.
        var stale = await Eventually.WaitForAsync(() => world.Http.PostAsync("/agent/batch-open",
            new { agentId = agent, symbol, action = "LONG", weight = 10, leverage = 2 }), r => r.Status == 409, TimeSpan.FromSeconds(20), "the price to go stale");
        Assert.Equal("stale_price", stale.Body!["code"]!.GetValue<string>());
        Assert.Equal("2", stale.Body["maxAgeSeconds"]!.GetValue<string>());
        // A manual close still works on the last price.
        var positionId = opened["results"]![0]!["result"]!["positionId"]!.GetValue<string>();
        await world.Http.PostAsync($"/api/v1/agent-positions/{agent}/{positionId}/close", new { reason = "manual" }).OkAsync();
        await Eventually.WaitForAsync(() => world.Http.GetJsonAsync($"/api/v1/accounts/{account}").OkAsync(), a => a["lockedUsdc"]!.GetValue<decimal>() == 0, what: "settlement");
    }
}
