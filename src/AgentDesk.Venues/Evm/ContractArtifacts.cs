using System.Collections.Concurrent;
using System.Text.Json;
using Nethereum.ABI.ABIDeserialisation;
using Nethereum.ABI.Model;

namespace AgentDesk.Venues.Evm;

/// <summary>The compiled contracts (Evm/Artifacts, embedded in this assembly): bytecode to deploy, ABI to name errors.</summary>
public static class ContractArtifacts
{
    private static readonly ConcurrentDictionary<string, (string Abi, string Bytecode)> Cache = new(StringComparer.Ordinal);

    public static string Bytecode(string contract) => Load(contract).Bytecode;

    public static ContractABI Abi(string contract) => new ABIJsonDeserialiser().DeserialiseContract(Load(contract).Abi);

    private static (string Abi, string Bytecode) Load(string contract) => Cache.GetOrAdd(contract, static name =>
    {
        using var stream = typeof(ContractArtifacts).Assembly.GetManifestResourceStream($"evm/{name}.json")
            ?? throw new InvalidOperationException($"No compiled artifact for {name}.");
        using var document = JsonDocument.Parse(stream);
        return (document.RootElement.GetProperty("abi").GetRawText(), document.RootElement.GetProperty("bytecode").GetString()!);
    });
}
