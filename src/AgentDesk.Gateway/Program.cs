using AgentDesk.Gateway.Infrastructure;

// `dotnet run --project src/AgentDesk.Gateway`: with nothing configured, a single node that keeps its data
// under ./data. See README.md for the settings.
await GatewayHost.Build(args).RunAsync();

/// <summary>Visible to the HTTP tests, which start the gateway in-process on a free port.</summary>
public partial class Program;
