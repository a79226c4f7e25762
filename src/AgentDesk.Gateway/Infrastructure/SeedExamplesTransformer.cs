using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AgentDesk.Gateway.Infrastructure;

/// <summary>
/// Puts the seed documents' example requests and responses on the seed endpoints of /openapi/v1.json
/// (from Infrastructure/OpenApiExamples.json, keyed by "METHOD path").
/// </summary>
public sealed class SeedExamplesTransformer : IOpenApiDocumentTransformer
{
    private static readonly JsonObject Examples = LoadExamples();

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "AgentDesk API";
        document.Info.Description = "Execution cluster for AI trading agents. Errors are RFC 7807 problem details with a machine-readable code.";
        foreach (var (path, item) in document.Paths)
        {
            if (item.Operations is null) continue;
            foreach (var (method, operation) in item.Operations)
            {
                if (Examples[$"{method.ToString().ToUpperInvariant()} {path}"] is not JsonObject example) continue;
                if (example["request"] is JsonNode request && operation.RequestBody?.Content is { } requestContent
                    && requestContent.TryGetValue("application/json", out var requestMedia))
                    requestMedia.Example = request.DeepClone();
                if (example["response"] is JsonNode response && operation.Responses is { } responses
                    && responses.TryGetValue("200", out var ok) && ok.Content is { } okContent && okContent.TryGetValue("application/json", out var responseMedia))
                    responseMedia.Example = response.DeepClone();
            }
        }
        return Task.CompletedTask;
    }

    private static JsonObject LoadExamples()
    {
        using var stream = typeof(SeedExamplesTransformer).Assembly.GetManifestResourceStream("openapi-examples.json")!;
        return JsonNode.Parse(stream)!.AsObject();
    }
}
