using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using AgentDesk.Domain.Common;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AgentDesk.Gateway.Http;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c>. Schemas and 200 responses are inferred from typed bodies and typed
/// results; these transformers add what the framework cannot see: the two security schemes and which operations need
/// them, every error an operation can answer (from <see cref="ProducesErrorsMetadata"/>) in the one problem shape the
/// server sends, and the request and response examples.
/// </summary>
public static class OpenApiSetup
{
    public const string ApiKeyScheme = "apiKey";
    public const string BearerScheme = "bearer";
    public const string ProblemSchema = "Problem";

    public static IServiceCollection AddAgentDeskOpenApi(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer<DocumentShape>();
        options.AddSchemaTransformer<RequiredMeansRequired>();
        options.AddOperationTransformer<RouteParameters>();
        options.AddOperationTransformer<OperationAccessAndErrors>();
        options.AddDocumentTransformer<Examples>();
    });

    /// <summary>What each tag groups, shown by the reference page and generated clients.</summary>
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Agents"] = "Register agents, manage their subscribers, signer, vault binding, track, and pause or resume them.",
        ["Accounts"] = "Customer accounts (smart accounts) and their USDC deposits.",
        ["Batches"] = "Fan one trade out to every subscriber of an agent, and close what a batch opened.",
        ["Positions"] = "Open positions with their exits; closing one by hand.",
        ["Intents"] = "EIP-712 signed intents of vault agents: quote, sign, submit. Public: the signature authenticates.",
        ["Vaults"] = "Vaults, their token allowlist and capital.",
        ["Prices"] = "Price ticks from oracles, guarded against outliers and staleness.",
        ["Fees"] = "What each fee address has been credited.",
        ["Access"] = "API keys (admin only).",
        ["Operations"] = "Health of the gateway and the cluster.",
    };

    /// <summary>Title, the security schemes and the problem schema.</summary>
    private sealed class DocumentShape : IOpenApiDocumentTransformer
    {
        public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
        {
            document.Info.Title = "AgentDesk API";
            // Servers are taken from the request; a trailing slash would double the one every path starts with.
            foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
            document.Tags ??= new HashSet<OpenApiTag>();
            foreach (var (name, description) in TagDescriptions)
            {
                if (document.Tags.FirstOrDefault(t => t.Name == name) is { } tag) tag.Description = description;
                else document.Tags.Add(new OpenApiTag { Name = name, Description = description });
            }
            document.Info.Description = "Execution cluster for AI trading agents. Errors are RFC 7807 problem details with a machine-readable code; "
                + "docs/api.md in the repository lists every code.";
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "x-api-key",
                Description = "An API key issued by the admin (or the admin key).",
            };
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "An HMAC-SHA256 JWT with org and role claims.",
            };
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            document.Components.Schemas[ProblemSchema] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "RFC 7807 problem details as AgentDesk sends them. Rejections add their facts (expectedNonce, headroomUsdc, limit, field, …) as further string members.",
                Required = new HashSet<string> { "type", "title", "status", "detail", "code" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI naming the problem: https://agentdesk.dev/problems/{code}." },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The machine-readable error code.", Enum = Errors.All.Select(e => (JsonNode)JsonValue.Create(e.Code)!).ToList() },
                    ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["field"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For invalid_type and unknown_field: the field." },
                    ["expected"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For invalid_type: the type the field must have." },
                    ["expectedNonce"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For nonce_mismatch: the agent's current nonce." },
                    ["headroomUsdc"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For track and allocation limits: what is left." },
                    ["limit"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "For track limits: the limit that was reached." },
                },
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String },
            };
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// In a request body, a property is required only when its record says <see cref="RequiredAttribute"/>; the
    /// framework would otherwise require every constructor parameter, and generated clients would have to send them
    /// all. Response records keep the framework's answer: what a response always carries.
    /// </summary>
    private sealed class RequiredMeansRequired : IOpenApiSchemaTransformer
    {
        public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
        {
            if (!typeof(IRequestBody).IsAssignableFrom(context.JsonTypeInfo.Type)) return Task.CompletedTask;
            var required = context.JsonTypeInfo.Properties
                .Where(p => p.AttributeProvider?.IsDefined(typeof(RequiredAttribute), inherit: true) == true)
                .Select(p => p.Name)
                .ToHashSet(StringComparer.Ordinal);
            schema.Required = required.Count > 0 ? required : null;
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// Path parameters that an endpoint filter reads rather than the handler (the visible agent of <c>/{agentId}</c>
    /// routes) are still part of the route: declare every template parameter the framework did not.
    /// </summary>
    private sealed class RouteParameters : IOpenApiOperationTransformer
    {
        public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
        {
            var template = context.Description.RelativePath ?? "";
            operation.Parameters ??= [];
            foreach (System.Text.RegularExpressions.Match match in System.Text.RegularExpressions.Regex.Matches(template, "{([A-Za-z]+)}"))
            {
                var name = match.Groups[1].Value;
                if (operation.Parameters.Any(p => p.In == ParameterLocation.Path && p.Name == name)) continue;
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name,
                    In = ParameterLocation.Path,
                    Required = true,
                    Description = name == "agentId" ? "The agent's id (a UUID)." : null,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
            return Task.CompletedTask;
        }
    }

    /// <summary>Per operation: the security it needs (or none for public ones) and its error responses.</summary>
    private sealed class OperationAccessAndErrors : IOpenApiOperationTransformer
    {
        public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            var errors = metadata.OfType<ProducesErrorsMetadata>().SelectMany(m => m.Errors).ToList();
            var protectedEndpoint = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
            if (protectedEndpoint)
            {
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
                ];
                errors.AddRange([Errors.Unauthenticated, Errors.InvalidCredentials, Errors.Forbidden]);
            }
            else
            {
                operation.Security = []; // public: no credential needed
            }
            errors.Add(Errors.RateLimited);
            if (operation.RequestBody is not null) errors.AddRange([Errors.MalformedJson, Errors.InvalidType, Errors.UnknownField, Errors.PayloadTooLarge, Errors.UnsupportedMediaType]);
            errors.Add(Errors.Unavailable);

            operation.Responses ??= new OpenApiResponses();
            foreach (var byStatus in errors.Distinct().GroupBy(e => ApiProblems.StatusFor(e.Kind)).OrderBy(g => g.Key))
            {
                var key = byStatus.Key.ToString(System.Globalization.CultureInfo.InvariantCulture);
                if (operation.Responses.TryGetValue(key, out var existing) && !IsProblem(existing)) continue; // an endpoint's own error body (Nexgent's {"error"}) stays
                var response = new OpenApiResponse
                {
                    Description = "Problem codes: " + string.Join(", ", byStatus.Select(e => e.Code).Order(StringComparer.Ordinal)) + ".",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema, context.Document) },
                    },
                };
                if (byStatus.Key is 429 or 503)
                    response.Headers = new Dictionary<string, IOpenApiHeader>
                    {
                        ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before retrying.", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
                    };
                operation.Responses[key] = response;
            }
            return Task.CompletedTask;
        }

        private static bool IsProblem(IOpenApiResponse response) => response.Content is null || response.Content.Count == 0
            || response.Content.ContainsKey("application/problem+json");
    }

    /// <summary>
    /// Request and response examples (Http/OpenApiExamples.json, keyed by "METHOD path"; recorded from a real run by
    /// tests/contract/record-examples.mjs). The response example belongs to the entry's <c>status</c>, 200 when absent.
    /// </summary>
    private sealed class Examples : IOpenApiDocumentTransformer
    {
        private static readonly JsonObject All = Load();

        public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
        {
            foreach (var (path, item) in document.Paths)
            {
                if (item.Operations is null) continue;
                foreach (var (method, operation) in item.Operations)
                {
                    if (All[$"{method.ToString().ToUpperInvariant()} {path}"] is not JsonObject example) continue;
                    if (example["request"] is JsonNode request && operation.RequestBody?.Content is { } requestContent
                        && requestContent.TryGetValue("application/json", out var requestMedia))
                        requestMedia.Example = request.DeepClone();
                    var status = example["status"]?.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "200";
                    if (example["response"] is JsonNode response && operation.Responses is { } responses
                        && responses.TryGetValue(status, out var ok) && ok.Content is { Count: > 0 } okContent)
                        // JSON where the operation answers JSON; otherwise (the event stream) its one media type, the example as text.
                        (okContent.TryGetValue("application/json", out var json) ? json : okContent.First().Value).Example = response.DeepClone();
                }
            }
            return Task.CompletedTask;
        }

        private static JsonObject Load()
        {
            using var stream = typeof(OpenApiSetup).Assembly.GetManifestResourceStream("openapi-examples.json")!;
            return JsonNode.Parse(stream)!.AsObject();
        }
    }
}
