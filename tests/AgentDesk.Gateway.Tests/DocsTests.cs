using AgentDesk.Testing;

namespace AgentDesk.Gateway.Tests;

/// <summary>The newcomer's entry points: the landing redirect, the API reference page and the document behind it.</summary>
[Collection(GatewayCollection.Name)]
public sealed class DocsTests(GatewayFixture gateway)
{
    [Fact]
    public async Task The_root_redirects_to_an_api_reference_that_is_served_locally_over_the_openapi_document()
    {
        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = gateway.BaseAddress };
        var root = await anonymous.GetAsync("/");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/docs", root.Headers.Location!.OriginalString);

        using var browser = gateway.Client();
        var page = await browser.GetAsync("/docs");
        Assert.True(page.IsSuccessStatusCode, $"/docs answered {page.StatusCode}");
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("openapi/v1.json", html, StringComparison.Ordinal);
        // The reference's script comes from the gateway itself, not a CDN: it works on a machine without internet.
        var script = System.Text.RegularExpressions.Regex.Match(html, "src=\"([^\"]*scalar[^\"]*\\.js)\"").Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(script), "the page loads no Scalar script");
        Assert.False(script.StartsWith("http", StringComparison.Ordinal), $"the script is loaded from elsewhere: {script}");
        var js = await browser.GetAsync(new Uri(new Uri(gateway.BaseAddress, "/docs/"), script));
        Assert.True(js.IsSuccessStatusCode, $"{script} answered {js.StatusCode}");
        Assert.True((await js.Content.ReadAsByteArrayAsync()).Length > 100_000);

        var document = await browser.GetJsonAsync("/openapi/v1.json").OkAsync();
        Assert.Equal("AgentDesk API", document["info"]!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_wrong_method_an_unknown_path_and_a_body_that_is_not_json_answer_problems_with_codes()
    {
        var http = gateway.Http;
        await http.SendAsync(HttpMethod.Delete, "/prices").ProblemAsync(405, "method_not_allowed");
        await http.GetJsonAsync("/no/such/endpoint").ProblemAsync(404, "route_not_found");
        await http.SendAsync(HttpMethod.Post, "/api/v1/accounts", rawBody: "smartAccount=0x1", contentType: "application/x-www-form-urlencoded")
            .ProblemAsync(415, "unsupported_media_type");
    }
}
