using AgentDesk.Domain.Common;

namespace AgentDesk.Gateway.Http;

/// <summary>The error codes an endpoint can answer with; the OpenAPI document lists them per status.</summary>
public sealed record ProducesErrorsMetadata(IReadOnlyList<ErrorCode> Errors);

public static class ErrorMetadataExtensions
{
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params ErrorCode[] errors) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ProducesErrorsMetadata(errors));
}
