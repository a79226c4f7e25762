using System.Text.RegularExpressions;
using AgentDesk.Domain.Common;
using AgentDesk.Testing;

namespace AgentDesk.Domain.Tests.Common;

/// <summary>docs/api.md is where a client looks up a code it received: every code AgentDesk can answer with is there, with its status.</summary>
public sealed partial class ErrorsCatalogueTests
{
    [Fact]
    public void Every_error_code_is_documented_in_api_md_with_its_status()
    {
        var documented = CatalogueRow().Matches(File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot(), "docs", "api.md")))
            .ToDictionary(m => m.Groups["code"].Value, m => int.Parse(m.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture));

        Assert.True(Errors.All.Count > 100, $"the catalogue has {Errors.All.Count} codes");
        var missing = Errors.All.Where(e => !documented.ContainsKey(e.Code)).Select(e => e.Code).ToList();
        Assert.True(missing.Count == 0, "not in docs/api.md: " + string.Join(", ", missing));
        var wrongStatus = Errors.All.Where(e => documented[e.Code] != Status(e.Kind)).Select(e => $"{e.Code} ({documented[e.Code]}, answers {Status(e.Kind)})").ToList();
        Assert.True(wrongStatus.Count == 0, "documented with another status: " + string.Join(", ", wrongStatus));
        var unknown = documented.Keys.Where(code => Errors.All.All(e => e.Code != code)).ToList();
        Assert.True(unknown.Count == 0, "documented but never answered: " + string.Join(", ", unknown));
    }

    // The gateway's mapping (ApiProblems.StatusFor), restated: the document must say what a client receives.
    private static int Status(ErrorKind kind) => kind switch
    {
        ErrorKind.Invalid => 400,
        ErrorKind.Unauthenticated => 401,
        ErrorKind.Forbidden => 403,
        ErrorKind.NotFound => 404,
        ErrorKind.MethodNotAllowed => 405,
        ErrorKind.Conflict => 409,
        ErrorKind.PayloadTooLarge => 413,
        ErrorKind.UnsupportedMediaType => 415,
        ErrorKind.RateLimited => 429,
        ErrorKind.Unavailable => 503,
        _ => 500,
    };

    [GeneratedRegex(@"^\| `(?<code>[a-z0-9_]+)` \| (?<status>\d{3}) \|", RegexOptions.Multiline)]
    private static partial Regex CatalogueRow();
}
