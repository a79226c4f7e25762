using AgentDesk.Gateway.Tests.Trust;
using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests;

/// <summary><c>GET /api/v1/agents</c>: the caller's organisation's agents, paged, and nobody else's.</summary>
[Collection(GatewayCollection.Name)]
public sealed class AgentListTests(GatewayFixture gateway)
{
    [Fact]
    public async Task The_list_holds_the_organisation_s_agents_in_registration_order_page_by_page()
    {
        var world = new OrgWorld(await gateway.KeyAsync("operator", TestData.NewOrganization("List")));
        var agents = new List<string>();
        for (var i = 0; i < 5; i++) agents.Add(await world.AgentAsync());
        await world.Http.PostAsync($"/api/v1/agents/{agents[1]}/pause").OkAsync();

        var first = await world.Http.GetJsonAsync("/api/v1/agents?limit=3").OkAsync();
        var second = await world.Http.GetJsonAsync($"/api/v1/agents?limit=3&cursor={first["nextCursor"]!.GetValue<string>()}").OkAsync();
        Assert.Null(second["nextCursor"]);
        var listed = first["agents"]!.AsArray().Concat(second["agents"]!.AsArray()).Select(a => a!).ToList();
        Assert.Equal(agents, listed.Select(a => a["agentId"]!.GetValue<string>()));
        Assert.Equal([false, true, false, false, false], listed.Select(a => a["paused"]!.GetValue<bool>()));
        Assert.Equal(5, (await world.Http.GetJsonAsync("/api/v1/agents").OkAsync())["agents"]!.AsArray().Count);

        using var stranger = await gateway.KeyAsync("operator", TestData.NewOrganization("Else"));
        var theirs = await stranger.GetJsonAsync("/api/v1/agents").OkAsync();
        Assert.Empty(theirs["agents"]!.AsArray());
        Assert.Null(theirs["nextCursor"]);
    }

    [Theory]
    [InlineData("/api/v1/agents?limit=0", "invalid_query")]
    [InlineData("/api/v1/agents?limit=501", "invalid_query")]
    [InlineData("/api/v1/agents?limit=ten", "invalid_query")]
    [InlineData("/api/v1/agents?cursor=-1", "invalid_cursor")]
    public async Task Bad_paging_is_refused(string path, string code) => await gateway.Http.GetJsonAsync(path).ProblemAsync(400, code);
}
