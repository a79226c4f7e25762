using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests.Trust;

/// <summary>Rate limits keyed by who the caller turned out to be (this fixture: 50 a second per credential, 5 per anonymous address).</summary>
public sealed class RateLimitTests(StrictRatesFixture gateway) : IClassFixture<StrictRatesFixture>
{
    [Fact]
    public async Task A_key_over_its_rate_answers_429_with_retry_after_and_another_key_is_unaffected()
    {
        using var busy = await gateway.KeyAsync("operator", TestData.NewOrganization("R"));
        var statuses = await Task.WhenAll(Enumerable.Range(0, 80).Select(_ => busy.GetAsync($"/api/v1/accounts/{TestData.NewAddress()}")));
        Assert.Equal(80, statuses.Length);
        Assert.Contains(statuses, r => (int)r.StatusCode == 404); // served
        var limited = statuses.Where(r => (int)r.StatusCode == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.Equal("1", limited[0].Headers.RetryAfter!.ToString());
        Assert.Equal("rate_limited", (await limited[0].Content.ReadFromJsonNodeAsync())["code"]!.GetValue<string>());

        using var other = await gateway.KeyAsync("operator", TestData.NewOrganization("Q"));
        await other.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}").ProblemAsync(404, "account_not_found");
    }

    [Fact]
    public async Task Inventing_a_new_key_per_request_buys_nothing_and_activates_no_grain()
    {
        var management = gateway.Cluster.GetGrain<IManagementGrain>(0);
        // The key directory is one grain: the first lookup may activate it, no later one activates anything.
        using (var first = gateway.Client("adk_" + Guid.NewGuid().ToString("N"))) await first.GetJsonAsync("/api/v1/api-keys");
        var before = await management.GetTotalActivationCount();
        var answers = new List<int>();
        for (var i = 0; i < 30; i++)
        {
            using var invented = gateway.Client("adk_" + Guid.NewGuid().ToString("N"));
            answers.Add((await invented.GetJsonAsync($"/api/v1/accounts/{TestData.NewAddress()}")).Status);
        }
        Assert.Equal(30, answers.Count);
        // Refused as unknown while the address has requests left, then limited like any anonymous caller.
        Assert.All(answers, status => Assert.True(status is 401 or 429, $"got {status}"));
        Assert.Contains(429, answers);
        Assert.True(answers.Count(s => s == 401) <= 10, $"{answers.Count(s => s == 401)} refusals got through a limit of 5 a second");
        Assert.Equal(before, await management.GetTotalActivationCount());
    }
}

internal static class ResponseJson
{
    public static async Task<System.Text.Json.Nodes.JsonNode> ReadFromJsonNodeAsync(this HttpContent content) =>
        System.Text.Json.Nodes.JsonNode.Parse(await content.ReadAsStringAsync())!;
}
