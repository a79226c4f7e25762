using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// deployments.json: where the venue's contracts live on one chain. Written by <c>deploy-contracts</c> (and so by
/// <c>deploy/local/chain.sh start</c>), read by the silo through <c>AgentDesk:Evm:DeploymentsFile</c>.
/// </summary>
public sealed record EvmDeployment
{
    public long ChainId { get; init; }
    public string? RpcUrl { get; init; }
    public long DeploymentBlock { get; init; }
    public string Router { get; init; } = "";
    public string Usdc { get; init; } = "";
    public string Registry { get; init; } = "";
    public string Pool { get; init; } = "";
    public string? Admin { get; init; }
    public string? Executor { get; init; }
    public Dictionary<string, string> Vaults { get; init; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, DeployedToken> Tokens { get; init; } = new(StringComparer.OrdinalIgnoreCase);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static EvmDeployment Read(string path) =>
        JsonSerializer.Deserialize<EvmDeployment>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path} is empty.");

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public void Write(string path) => File.WriteAllText(path, ToJson() + "\n");
}

/// <summary>A listed token: address, decimals, and the Chainlink-style feed that prices it.</summary>
public sealed record DeployedToken(string Address, int Decimals, string Feed);
