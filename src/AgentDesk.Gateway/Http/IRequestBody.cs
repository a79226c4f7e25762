namespace AgentDesk.Gateway.Http;

/// <summary>
/// Marks a record the API reads from a request body (at any depth). Its OpenAPI schema requires only the properties
/// marked <see cref="System.ComponentModel.DataAnnotations.RequiredAttribute"/>; every other property may be omitted.
/// </summary>
public interface IRequestBody;
