using System.Globalization;
using System.Text.Json.Nodes;
using AgentDesk.Gateway.Tests.Trust;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests;

/// <summary>
/// Trade history over real HTTP: every close path appears once with its reason and figures, retries write nothing twice,
/// pages stay stable while trades arrive, CSV export, performance from the same rows, and nothing crosses organisations.
/// </summary>
public sealed class HistoryTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Every_close_path_appears_once_in_history_with_its_reason_prices_and_pnl()
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Hi"));
        var world = new OrgWorld(ops);

        var batches = new Dictionary<string, string>();
        async Task<(string Agent, string Account, string Symbol)> OpenAsync(object orderOptions)
        {
            var agent = await world.AgentAsync();
            var account = await world.AccountAsync("100", subscribeTo: agent);
            var symbol = TestData.NewSymbol();
            await OrgWorld.PriceAsync(gateway.Http, symbol, "100");
            var opened = await ops.PostAsync("/agent/batch-open", new { agentId = agent, symbol, action = "LONG", weight = 100, leverage = 2, orderOptions }).OkAsync();
            batches[agent] = opened["batchId"]!.GetValue<string>();
            return (agent, account, symbol);
        }
        static object Options(decimal trigger = 0, decimal stop = 0, decimal target = 0, decimal trailing = 0) =>
            new { triggerPrice = trigger, stopLossPrice = stop, takeProfitPrice = target, trailingStopPercentage = trailing };

        var manual = await OpenAsync(Options());
        var stop = await OpenAsync(Options(stop: 97));
        var target = await OpenAsync(Options(target: 103));
        var trailing = await OpenAsync(Options(trailing: 3));
        var batchClosed = await OpenAsync(Options());
        var cancelled = await OpenAsync(Options(trigger: 90));

        var position = (await ops.GetJsonAsync($"/api/v1/agent-positions/{manual.Agent}").OkAsync()).AsArray().Single()!;
        var closed = await ops.PostAsync($"/api/v1/agent-positions/{manual.Agent}/{position["id"]!.GetValue<string>()}/close", new { reason = "manual" }).OkAsync();
        await OrgWorld.PriceAsync(gateway.Http, stop.Symbol, "96");
        await OrgWorld.PriceAsync(gateway.Http, target.Symbol, "104");
        await OrgWorld.PriceAsync(gateway.Http, trailing.Symbol, "104");
        // Ticks reach positions without waiting, newest first: the fall comes once the position has seen the new peak.
        await Eventually.WaitForAsync(() => ops.GetJsonAsync($"/api/v1/agent-positions/{trailing.Agent}").OkAsync(),
            p => p.AsArray().SingleOrDefault()?["exitPlan"]?["trailingStopPrice"]?.GetValue<decimal>() > 100m, Wait, "the trailing stop to follow the peak");
        await OrgWorld.PriceAsync(gateway.Http, trailing.Symbol, "100");
        foreach (var (agent, _, _) in new[] { batchClosed, cancelled })
        {
            // A retried close (same Idempotency-Key) is the same close: it adds nothing to history.
            for (var attempt = 0; attempt < 2; attempt++)
                await ops.PostAsync("/agent/batch-close", new { agentId = agent, batchId = batches[agent] },
                    new Dictionary<string, string> { ["Idempotency-Key"] = $"close-{agent}" }).OkAsync();
        }

        var expected = new[]
        {
            (manual, "manual", 100m), (stop, "stop_loss", 96m), (target, "take_profit", 104m), (trailing, "trailing_stop", 100m),
            (batchClosed, "batch_close", 100m), (cancelled, "cancelled", 0m),
        };
        foreach (var ((agent, account, symbol), reason, price) in expected)
        {
            var list = await Eventually.WaitForAsync(() => ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}").OkAsync(),
                l => l["trades"]!.AsArray().Count > 0, Wait, $"{reason} in history");
            var trade = Assert.Single(list["trades"]!.AsArray())!;
            Assert.Equal(reason, trade["closeReason"]!.GetValue<string>());
            Assert.Equal(account, trade["walletAddress"]!.GetValue<string>(), ignoreCase: true);
            Assert.Equal(symbol, trade["symbol"]!.GetValue<string>());
            Assert.Equal("LONG", trade["side"]!.GetValue<string>());
            if (reason == "cancelled")
            {
                Assert.Equal(0m, trade["size"]!.GetValue<decimal>());
                Assert.Null(trade["closePrice"]);
                continue;
            }
            // Fills move 5 bps against the trader on the paper venue: the close price is the tick's, a little lower.
            var close = trade["closePrice"]!.GetValue<decimal>();
            Assert.InRange(close, price * 0.999m, price);
            Assert.InRange(trade["openPrice"]!.GetValue<decimal>(), 100m, 100.1m);
            Assert.True(trade["size"]!.GetValue<decimal>() > 0m);
            Assert.True(trade["positionClosed"]!.GetValue<bool>());
            Assert.NotNull(trade["closeTransactionHash"]?.GetValue<string>());
            var pnl = trade["realizedPnlUsd"]!.GetValue<decimal>();
            Assert.True(reason switch { "take_profit" => pnl > 0m, "stop_loss" => pnl < 0m, _ => true }, $"{reason}: P/L {pnl}");
            var one = await ops.GetJsonAsync($"/api/v1/historical-swaps/{trade["historicalSwapId"]!.GetValue<string>()}").OkAsync();
            Assert.Equal(trade.ToJsonString(), one.ToJsonString());
        }

        // The manual close's answer names its row.
        var manualTrade = (await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={manual.Agent}").OkAsync())["trades"]![0]!;
        Assert.Equal(closed["historicalSwapId"]!.GetValue<string>(), manualTrade["historicalSwapId"]!.GetValue<string>());
        Assert.Equal(closed["profitLossUsd"]!.GetValue<decimal>(), manualTrade["realizedPnlUsd"]!.GetValue<decimal>(), 6);

        // The organisation's whole history has the six rows, and another organisation sees none of them.
        var all = (await ops.GetJsonAsync("/api/v1/historical-swaps").OkAsync())["trades"]!.AsArray();
        Assert.Equal(6, all.Count);
        using var stranger = await gateway.KeyAsync("operator", TestData.NewOrganization("Hx"));
        Assert.Empty((await stranger.GetJsonAsync("/api/v1/historical-swaps").OkAsync())["trades"]!.AsArray());
        await stranger.GetJsonAsync($"/api/v1/historical-swaps/{all[0]!["historicalSwapId"]!.GetValue<string>()}").ProblemAsync(404, "swap_not_found");
        await stranger.GetJsonAsync($"/api/v1/historical-swaps?agentId={manual.Agent}").ProblemAsync(404, "agent_not_found");
        await stranger.GetJsonAsync($"/api/v1/agents/{manual.Agent}/performance").ProblemAsync(404, "agent_not_found");
    }

    [Fact]
    public async Task Pages_stay_stable_while_new_trades_arrive_and_the_csv_export_has_the_same_rows()
    {
        using var ops = await gateway.KeyAsync("operator", TestData.NewOrganization("Hp"));
        var world = new OrgWorld(ops);
        var agent = await world.AgentAsync();
        for (var i = 0; i < 5; i++) await world.AccountAsync("100", subscribeTo: agent);
        var symbol = TestData.NewSymbol();
        await OrgWorld.PriceAsync(gateway.Http, symbol, "100");

        async Task RoundAsync(int round)
        {
            var opened = await world.BatchOpenAsync(agent, symbol);
            await ops.PostAsync("/agent/batch-close", new { agentId = agent, batchId = opened["batchId"]!.GetValue<string>() }).OkAsync();
            await Eventually.WaitForAsync(() => ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}&limit=1000").OkAsync(),
                l => l["trades"]!.AsArray().Count == 5 * round, Wait, $"round {round}'s trades in history");
        }
        await RoundAsync(1);
        var everything = (await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}").OkAsync())["trades"]!.AsArray().Select(Id).ToList();

        var first = await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}&limit=2").OkAsync();
        await RoundAsync(2); // five newer trades arrive between pages
        var second = await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}&limit=2&cursor={first["nextCursor"]!.GetValue<string>()}").OkAsync();
        var third = await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}&limit=2&cursor={second["nextCursor"]!.GetValue<string>()}").OkAsync();
        var paged = new[] { first, second, third }.SelectMany(p => p["trades"]!.AsArray().Select(Id)).ToList();
        Assert.Equal(everything, paged);
        Assert.Null(third["nextCursor"]);

        // Newest first, and the CSV export of a query has a header and the same rows in the same order.
        var latest = (await ops.GetJsonAsync($"/api/v1/historical-swaps?agentId={agent}").OkAsync())["trades"]!.AsArray();
        Assert.Equal(10, latest.Count);
        var times = latest.Select(t => t!["closedAt"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(times.OrderByDescending(t => t), times);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/historical-swaps?agentId={agent}");
        request.Headers.Accept.ParseAdd("text/csv");
        using var response = await ops.SendAsync(request);
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("historicalSwapId,agentId,walletAddress,symbol,", lines[0], StringComparison.Ordinal);
        Assert.Equal(latest.Select(Id), lines.Skip(1).Select(l => l.Split(',')[0]));

        // Performance is computed from the same rows.
        var performance = (await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance").OkAsync())["performance"]!;
        Assert.Equal(10, performance["trades"]!.GetValue<int>());
        Assert.Equal(latest.Sum(t => t!["realizedPnlUsd"]!.GetValue<decimal>()), performance["totalRealizedPnlUsd"]!.GetValue<decimal>());
        Assert.Equal(symbol, Assert.Single(performance["bySymbol"]!.AsArray())!["symbol"]!.GetValue<string>());
        Assert.Equal(5, Assert.Single(performance["byDay"]!.AsArray())!["tradingSubscribers"]!.GetValue<int>());
        // Five subscribed today: the day's count in the subscriber series.
        var series = (await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance").OkAsync())["subscribersByDay"]!.AsArray();
        Assert.Equal(5, Assert.Single(series)!["subscribers"]!.GetValue<int>());
        // `to` is exclusive: a range that ends at today's midnight does not reach today's count; one a second later does.
        var midnight = DateTime.UtcNow.Date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        Assert.Empty((await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance?to={midnight}T00:00:00Z").OkAsync())["subscribersByDay"]!.AsArray());
        Assert.Single((await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance?to={midnight}T00:00:01Z").OkAsync())["subscribersByDay"]!.AsArray());
        Assert.Single((await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance?from={midnight}&to={midnight}T23:59:59.9999999%2B00:00").OkAsync())["subscribersByDay"]!.AsArray());
        Assert.Empty((await ops.GetJsonAsync($"/api/v1/agents/{agent}/performance?to=0001-01-01T00:00:00Z").OkAsync())["subscribersByDay"]!.AsArray());
    }

    [Theory]
    [InlineData("limit=0", "invalid_query")]
    [InlineData("limit=1001", "invalid_query")]
    [InlineData("from=yesterday", "invalid_query")]
    [InlineData("from=03/04/2026", "invalid_query")] // March or April, depending on who reads it
    [InlineData("to=1%20Nov%202026", "invalid_query")]
    [InlineData("from=2026-11-01T00:00:00Z&to=0001-01-01T00:00:00Z", "invalid_query")]
    [InlineData("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "invalid_query")]
    [InlineData("cursor=not-a-cursor", "invalid_cursor")]
    [InlineData("cursor=MHwA", "invalid_cursor")] // "0|\0": an id no trade has, that PostgreSQL could not even compare
    [InlineData("cursor=OTk5OTk5OTk5OTk5OTk5OTk5OTk5OXxh", "invalid_cursor")] // ticks beyond the calendar
    [InlineData("walletAddress=0x123", "invalid_address")]
    [InlineData("symbol=SO%20L", "invalid_symbol")]
    [InlineData("agentId=42", "invalid_agent_id")]
    public async Task A_bad_query_is_a_400_with_its_code(string query, string code)
    {
        await gateway.Http.GetJsonAsync($"/api/v1/historical-swaps?{query}").ProblemAsync(400, code);
    }

    private static string Id(JsonNode? trade) => trade!["historicalSwapId"]!.GetValue<string>();
}
