using AgentDesk.Testing;
using System.Diagnostics.Metrics;
using System.Text.Json.Nodes;

namespace AgentDesk.Gateway.Tests;

/// <summary>Each seed document's example request is accepted and answered with every field the seed shows.</summary>
[Collection(GatewayCollection.Name)]
public sealed class SeedShapeTests(GatewayFixture gateway)
{
    private readonly HttpClient _http = gateway.Http;

    /// <summary>
    /// Every field the seed shows is present with the seed's JSON type (a seed null allows any type: the seeds use null for
    /// "not set"). Values are the seed's placeholders and are not compared here; the tests assert representative values.
    /// </summary>
    private static string Kind(JsonNode node) => node.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "boolean",
        var kind => kind.ToString().ToLowerInvariant(),
    };

    private static void AssertShape(JsonNode seed, JsonNode? actual, string path = "$")
    {
        Assert.True(actual is not null, $"{path} is missing");
        Assert.True(Kind(seed) == Kind(actual), $"{path} is {Kind(actual)} ({actual.ToJsonString()}), the seed shows {Kind(seed)}");
        switch (seed)
        {
            case JsonObject expected:
                var obj = Assert.IsType<JsonObject>(actual);
                foreach (var (key, value) in expected)
                {
                    Assert.True(obj.ContainsKey(key), $"{path}.{key} is missing from {obj.ToJsonString()}");
                    if (value is not null && obj[key] is not null) AssertShape(value, obj[key], $"{path}.{key}");
                }
                break;
            case JsonArray expectedArray when expectedArray.Count > 0:
                var array = Assert.IsType<JsonArray>(actual);
                Assert.NotEmpty(array);
                AssertShape(expectedArray[0]!, array[0], $"{path}[0]");
                break;
        }
    }

    [Fact]
    public async Task The_seed_examples_are_accepted_and_answered_in_the_seed_shapes()
    {
        // Symphony's registration example, with its truncated fee addresses written out (AgentDesk accepts only whole addresses)
        var agentId = Guid.NewGuid().ToString();
        var register = JsonNode.Parse("""
            {"agentId":"AGENT","name":"New Agent","description":"New Description","imageUrl":"https://example.com/image.png","agentType":"PERPETUAL","isPublic":true,
             "agentFees":{"owner_flat":{"fee":0.1,"feeAddress":"0x56d0573c786d3000000000000000000000000001","type":"FLAT"},"owner_bps":{"fee":5,"feeAddress":"0x56d0573c786d3000000000000000000000000001","type":"BPS"}}}
            """.Replace("AGENT", agentId))!;
        var registered = await _http.PostAsync("/agent/register", register).OkAsync();
        AssertShape(JsonNode.Parse("""
            {"status":"success","message":"Agent registered successfully","agentId":"x","isPublic":"true","organization":"Symphony","ownerId":null,"manager":null,
             "quorumId":"x","agentType":"PERPETUAL","imageUrl":"x","feeData":[{"partner":"owner_flat","fee":0.1,"feeAddress":"x","feeType":"flat"}]}
            """)!, registered);
        Assert.Equal(["flat", "bps"], registered["feeData"]!.AsArray().Select(f => f!["feeType"]!.GetValue<string>()));

        var account = TestData.NewAddress();
        await _http.PostAsync("/api/v1/accounts", new { smartAccount = account }).OkAsync();
        await _http.PostAsync($"/api/v1/accounts/{account}/deposits", new { amount = "100" }).OkAsync();
        await _http.PostAsync($"/api/v1/agents/{agentId}/subscribers", new { smartAccount = account }).OkAsync();
        await _http.PostAsync("/api/v1/prices", new { prices = new[] { new { symbol = "SOL", priceUsd = "150" } } }).OkAsync();

        // the Symphony batch-open document, verbatim but for the agent id
        var open = await _http.PostAsync("/agent/batch-open", JsonNode.Parse("""
            {"agentId":"AGENT","symbol":"SOL","action":"LONG","weight":100,"leverage":2,"orderOptions":{"triggerPrice":0,"stopLossPrice":0,"takeProfitPrice":0}}
            """.Replace("AGENT", agentId))).OkAsync();
        AssertShape(JsonNode.Parse("""
            {"message":"Batch open trade submitted","batchId":"x","successful":1,"failed":0,"results":[{"smartAccount":"x","result":{"success":true,
             "protocolOrderHash":null,"protocolPositionHash":"x","symphonyPositionHash":"x","intentHash":"x","srcChainId":42161,"submitTxHash":"x",
             "submitExplorerUrl":"x","dstChainId":42161,"executeTxHash":"x","executeExplorerUrl":"x","adjustedFansToAdd":3,"newFanCount":897}}]}
            """)!, open);
        Assert.Equal(1, open["successful"]!.GetValue<int>());
        Assert.Equal("Batch open trade submitted", open["message"]!.GetValue<string>());
        Assert.Equal(account, open["results"]![0]!["smartAccount"]!.GetValue<string>());
        Assert.StartsWith("0x", open["results"]![0]!["result"]!["submitTxHash"]!.GetValue<string>());

        // the Nexgent positions list and close
        var positions = await _http.GetJsonAsync($"/api/v1/agent-positions/{agentId}").OkAsync();
        AssertShape(JsonNode.Parse("""
            [{"id":"x","agentId":"x","walletAddress":"x","tokenAddress":"x","tokenSymbol":"x",
              "purchase":{"priceNative":0,"priceUsd":0,"amount":0,"transaction":{"id":"x","hash":"x","time":"x"}},
              "current":{"priceNative":0,"priceUsd":0,"valueNative":0,"valueUsd":0},
              "profitLoss":{"native":0,"usd":0,"percent":0,"priceChangePercent":0},
              "stopLoss":{"percentage":null,"peakPrice":null},"createdAt":"x","updatedAt":"x"}]
            """)!, positions);
        var positionId = positions[0]!["id"]!.GetValue<string>();
        Assert.Equal(account, positions[0]!["walletAddress"]!.GetValue<string>());
        Assert.Equal("SOL", positions[0]!["tokenSymbol"]!.GetValue<string>());
        Assert.Equal(150.075m, positions[0]!["purchase"]!["priceUsd"]!.GetValue<decimal>()); // the paper venue buys 5 bps above the feed
        var closed = await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{positionId}/close", JsonNode.Parse("""{"reason":"manual"}""")).OkAsync();
        AssertShape(JsonNode.Parse("""
            {"success":true,"transactionId":"x","historicalSwapId":"x","profitLossSol":0,"profitLossUsd":0,"changePercent":0,"transactionHash":"x"}
            """)!, closed);
        var missing = await _http.PostAsync($"/api/v1/agent-positions/{agentId}/{Guid.NewGuid()}/close", JsonNode.Parse("""{"reason":"manual"}"""));
        Assert.Equal(404, missing.Status);
        Assert.Equal("""{"error":"Position not found"}""", missing.Body!.ToJsonString());

        // the Symphony batch-close (with the batch id the open returned)
        var close = await _http.PostAsync("/agent/batch-close", new JsonObject { ["agentId"] = agentId, ["batchId"] = open["batchId"]!.GetValue<string>() }).OkAsync();
        AssertShape(JsonNode.Parse("""
            {"message":"Batch close trade submitted","batchId":"x","successful":0,"skipped":1,"failed":0,
             "results":[{"smartAccount":"x","result":{"success":true,"skipped":true,"message":"Skipped closed trade"}}]}
            """)!, close);
    }

    [Fact]
    public async Task A_request_is_traced_through_aspnetcore_and_the_grain_calls_it_makes_under_the_callers_trace_id()
    {
        // The caller's W3C traceparent names the trace; every span of this request, HTTP and grain calls alike, must join it.
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom();
        var spans = new System.Collections.Concurrent.ConcurrentBag<(string Source, System.Diagnostics.ActivityTraceId TraceId)>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) || s.Name == "Microsoft.AspNetCore",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = a => spans.Add((a.Source.Name, a.TraceId)),
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/accounts/{TestData.NewAddress()}");
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01");
        (await _http.SendAsync(request)).Dispose();

        var ours = spans.Where(s => s.TraceId == traceId).Select(s => s.Source).ToList();
        Assert.Contains("Microsoft.AspNetCore", ours);
        Assert.Contains(ours, s => s.StartsWith("Microsoft.Orleans", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_projects_meters_count_intents_by_outcome()
    {
        var outcomes = new List<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AgentDesk" && instrument.Name == "agentdesk.intents") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag.Key == "outcome") lock (outcomes) outcomes.Add((string)tag.Value!);
        });
        listener.Start();

        var (agentId, key, symbol, _) = await AlphaGridStoryTests.SetUpAsync(_http);
        var (body, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
            ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 }),
        });
        await _http.PostAsync($"/agents/{agentId}/trade-intents", body).OkAsync();
        var (second, _) = await AlphaGridStoryTests.SignedAsync(_http, agentId, key, "trade-intents/quote", new JsonObject
        {
            ["symbol"] = symbol, ["usdcAmount"] = "10", ["minTokenOut"] = "0", ["maxSlippageBps"] = 100, ["deadline"] = AlphaGridStoryTests.Deadline,
            ["exits"] = new JsonArray(new JsonObject { ["triggerType"] = "StopLoss", ["triggerBps"] = -500, ["exitBps"] = 10000 }),
        });
        await _http.PostAsync($"/agents/{agentId}/trade-intents", second).ProblemAsync(409, "position_already_open");
        lock (outcomes)
        {
            Assert.Contains("accepted", outcomes);
            Assert.Contains("position_already_open", outcomes);
        }
    }
}
