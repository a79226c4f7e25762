using AgentDesk.Gateway.Hosting;

// `dotnet run --project src/AgentDesk.Gateway`: with nothing configured, a single node that keeps its data under ./data.
// README.md lists the settings; docs/architecture.md shows where each part lives.
await GatewayHost.Build(args).RunAsync();

/// <summary>Visible to the HTTP tests, which start the gateway in-process on a free port.</summary>
public partial class Program;
