using System.Text.Json;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace AgentDesk.Gateway.Http;

/// <summary>
/// The one place exceptions become problems. Request bodies that cannot be read answer 400 with a precise code
/// (<c>malformed_json</c>, <c>unknown_field</c>, <c>invalid_type</c> with the field and the expected type), an oversized
/// body 413, a body that is not JSON 415; a cluster that cannot answer right now (a silo that died, a timed-out call)
/// 503 with Retry-After. Anything else is a bug: 500 <c>internal_error</c>, logged with its trace id.
/// </summary>
public sealed class ApiExceptionHandler(IOptions<JsonOptions> json, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        if (context.Response.HasStarted) return false;
        switch (exception)
        {
            case BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }:
                await ApiProblems.WriteAsync(context, Errors.PayloadTooLarge, $"The request body is larger than {GatewayLimits.MaxRequestBodyBytes / 1024} KB.");
                return true;
            case BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType }:
                await ApiProblems.WriteAsync(context, Errors.UnsupportedMediaType, "Send the body as application/json.");
                return true;
            case BadHttpRequestException { InnerException: JsonException invalid }:
                await WriteJsonProblemAsync(context, invalid);
                return true;
            case BadHttpRequestException:
                // Query and route values are bound as strings and checked by the handlers, so what is left is the body.
                await ApiProblems.WriteAsync(context, Errors.MalformedJson, "The request needs a JSON object body.");
                return true;
            case JsonException invalid:
                await WriteJsonProblemAsync(context, invalid);
                return true;
            case OperationCanceledException when context.RequestAborted.IsCancellationRequested:
                return true; // the client went away; there is nobody to answer
            case var transient when ClusterFailures.IsTransient(transient):
                logger.LogWarning(exception, "The cluster could not answer {Method} {Path}", context.Request.Method, context.Request.Path);
                context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await ApiProblems.WriteAsync(context, Errors.Unavailable, $"The cluster could not answer this request now; retry in {RetryAfterSeconds} s (with the same Idempotency-Key, if any).");
                return true;
            default:
                logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
                await ApiProblems.WriteAsync(context, Errors.Internal, "An unexpected error occurred; it has been logged with this trace id.",
                    new Dictionary<string, string> { ["traceId"] = context.TraceIdentifier });
                return true;
        }
    }

    private Task WriteJsonProblemAsync(HttpContext context, JsonException error)
    {
        // The reader's own error (bad syntax, truncated input) travels as the inner exception.
        if (error.InnerException is JsonException)
            return ApiProblems.WriteAsync(context, Errors.MalformedJson, $"The request body is not valid JSON (line {error.LineNumber + 1}, byte {error.BytePositionInLine}).");
        // The exception handler clears the endpoint before handlers run; the feature keeps the one that failed.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        var bodyType = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        var lookup = bodyType is null ? null : JsonFieldTypes.Find(bodyType, error.Path, json.Value.SerializerOptions);
        return lookup switch
        {
            JsonFieldTypes.Unknown unknown => ApiProblems.WriteAsync(context, Errors.UnknownField, $"{unknown.Field} is not a field of this request.",
                new Dictionary<string, string> { ["field"] = unknown.Field }),
            JsonFieldTypes.Known known => ApiProblems.WriteAsync(context, Errors.InvalidType, $"{known.Field} must be {known.Expected}.",
                new Dictionary<string, string> { ["field"] = known.Field, ["expected"] = known.Expected }),
            _ => ApiProblems.WriteAsync(context, Errors.MalformedJson, "The request body must be a JSON object of this request's fields."),
        };
    }
}

/// <summary>Limits applied before any work is done (docs/security.md, "Input limits").</summary>
public static class GatewayLimits
{
    public const long MaxRequestBodyBytes = 64 * 1024;
}
