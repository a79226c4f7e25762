using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// Section <c>AgentDesk:Evm</c>: the chain and contracts of the EVM venue. Addresses come from <see cref="DeploymentsFile"/>
/// (what <c>deploy-contracts</c> and <c>deploy/local/chain.sh</c> write); a setting given here overrides the file's value.
/// </summary>
public sealed class EvmOptions
{
    public const string Section = "AgentDesk:Evm";

    /// <summary>The chain's JSON-RPC endpoint.</summary>
    public string? RpcUrl { get; set; }

    /// <summary>The chain's id: checked against the node at start, and the EIP-712 domain's chain id.</summary>
    public long ChainId { get; set; }

    /// <summary>
    /// A file holding the executor's private key (0x + 64 hex digits). The key is read from it when the venue starts and is
    /// never logged or shown; the file should be readable by the silo's user only.
    /// </summary>
    public string? ExecutorKeyFile { get; set; }

    /// <summary>deployments.json: chain id, RPC URL, contract addresses, vaults by id and tokens by symbol.</summary>
    public string? DeploymentsFile { get; set; }

    /// <summary>The block explorer's transaction URL; <c>{hash}</c> is replaced by the hash (or the hash is appended).</summary>
    public string? ExplorerTxUrl { get; set; }

    /// <summary>The TradeRouter: the EIP-712 verifying contract and the only contract the executor calls.</summary>
    public string? Router { get; set; }

    /// <summary>The TokenRegistry: the listed tokens and the price feed of each.</summary>
    public string? Registry { get; set; }

    /// <summary>The block the contracts were deployed at: event searches when reconciling start there.</summary>
    public long DeploymentBlock { get; set; }

    /// <summary>Tokens by symbol: SWAP agents' batches trade a symbol's token, and chain prices read its feed.</summary>
    public Dictionary<string, EvmToken> Tokens { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Subscribers' orders of one agent and token per <c>batchOpen</c>/<c>batchClose</c> transaction. 150 stays under the
    /// 2^24 per-transaction gas cap of EIP-7825 with room for a costlier token (Evm/Solidity/README.md, "Gas and chunking");
    /// 1 sends one transaction per subscriber.
    /// </summary>
    [Range(1, 180)]
    public int BatchChunkSize { get; set; } = 150;

    /// <summary>
    /// How long a batch lane waits after its first order before sending, to gather the orders of a fan-out that are still
    /// arriving (default 0: a lane sends at once, and orders arriving meanwhile share the next transaction).
    /// </summary>
    [Range(0, 10_000)]
    public int BatchLingerMs { get; set; }

    /// <summary>The first wait before asking for a receipt again; waits double from there up to <see cref="ReceiptPollMaxMs"/>.</summary>
    [Range(1, 10_000)]
    public int ReceiptPollMs { get; set; } = 2;

    [Range(1, 60_000)]
    public int ReceiptPollMaxMs { get; set; } = 250;

    /// <summary>How long a sent transaction may take to be mined before the order is reported unknown (and left to reconcile).</summary>
    [Range(1, 3_600)]
    public int ReceiptTimeoutSeconds { get; set; } = 120;

    /// <summary>Bound on one JSON-RPC call.</summary>
    [Range(1, 600)]
    public int RpcTimeoutSeconds { get; set; } = 30;

    /// <summary>The explorer link for a transaction, or null when none is configured.</summary>
    public string? ExplorerUrl(string hash) => string.IsNullOrWhiteSpace(ExplorerTxUrl)
        ? null
        : ExplorerTxUrl.Contains("{hash}", StringComparison.Ordinal) ? ExplorerTxUrl.Replace("{hash}", hash, StringComparison.Ordinal) : ExplorerTxUrl + hash;

    /// <summary>The token listed for <paramref name="symbol"/>, if any.</summary>
    public EvmToken? Token(string symbol) => Tokens.TryGetValue(symbol, out var token) ? token : null;
}

/// <summary>A token the venue trades: its address, decimals and (for chain prices) its Chainlink-style feed.</summary>
public sealed class EvmToken
{
    [Required, RegularExpression("^0x[0-9a-fA-F]{40}$")]
    public string Address { get; set; } = "";

    [Range(0, 36)]
    public int Decimals { get; set; } = 18;

    [RegularExpression("^0x[0-9a-fA-F]{40}$")]
    public string? Feed { get; set; }
}

/// <summary>Fills unset settings from <see cref="EvmOptions.DeploymentsFile"/>.</summary>
public sealed class EvmOptionsFromDeployments : IPostConfigureOptions<EvmOptions>
{
    public void PostConfigure(string? name, EvmOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.DeploymentsFile) || !File.Exists(options.DeploymentsFile)) return;
        var deployment = EvmDeployment.Read(options.DeploymentsFile);
        options.RpcUrl ??= deployment.RpcUrl;
        if (options.ChainId == 0) options.ChainId = deployment.ChainId;
        options.Router ??= deployment.Router;
        options.Registry ??= deployment.Registry;
        if (options.DeploymentBlock == 0) options.DeploymentBlock = deployment.DeploymentBlock;
        foreach (var (symbol, token) in deployment.Tokens) options.Tokens.TryAdd(symbol, new EvmToken { Address = token.Address, Decimals = token.Decimals, Feed = token.Feed });
    }
}

/// <summary>
/// What the EVM venue needs before it can start: one message per missing or invalid setting, never the key itself. Checked
/// only when something uses the chain (<paramref name="inUse"/>: the EVM venue, or chain prices).
/// </summary>
public sealed class EvmOptionsValidator(Func<bool> inUse) : IValidateOptions<EvmOptions>
{
    public ValidateOptionsResult Validate(string? name, EvmOptions options)
    {
        if (!inUse()) return ValidateOptionsResult.Skip;
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(options.DeploymentsFile) && !File.Exists(options.DeploymentsFile))
            failures.Add($"AgentDesk:Evm:DeploymentsFile {options.DeploymentsFile} does not exist.");
        if (!Uri.TryCreate(options.RpcUrl, UriKind.Absolute, out var rpc) || rpc.Scheme is not ("http" or "https"))
            failures.Add("AgentDesk:Evm:RpcUrl must be the chain's http(s) JSON-RPC URL (or come from the deployments file).");
        if (options.ChainId <= 0) failures.Add("AgentDesk:Evm:ChainId must be the chain's id (or come from the deployments file).");
        foreach (var (setting, value) in new[] { ("Router", options.Router), ("Registry", options.Registry) })
            if (!IsAddress(value)) failures.Add($"AgentDesk:Evm:{setting} must be a 0x address (or come from the deployments file).");
        foreach (var (symbol, token) in options.Tokens)
            if (!IsAddress(token.Address) || token.Decimals is < 0 or > 36 || (token.Feed is not null && !IsAddress(token.Feed)))
                failures.Add($"AgentDesk:Evm:Tokens:{symbol} needs an Address, Decimals between 0 and 36 and, if given, a Feed address.");
        if (string.IsNullOrWhiteSpace(options.ExecutorKeyFile)) failures.Add("AgentDesk:Evm:ExecutorKeyFile must name the file that holds the executor's key.");
        else if (ExecutorKey.Check(options.ExecutorKeyFile) is { } keyProblem) failures.Add($"AgentDesk:Evm:ExecutorKeyFile: {keyProblem}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsAddress(string? value) => Domain.Intents.EthAddress.IsValid(value);
}

/// <summary>Reads the executor key from its file. The key never appears in a message, a log line or an exception.</summary>
public static class ExecutorKey
{
    /// <summary>Why the file cannot serve as a key file (null when it can).</summary>
    public static string? Check(string path)
    {
        if (!File.Exists(path)) return $"{path} does not exist.";
        try
        {
            return Parse(File.ReadAllText(path)) is null ? $"{path} does not hold a private key (0x followed by 64 hex digits)." : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{path} cannot be read ({e.GetType().Name}).";
        }
    }

    /// <summary>The key as 0x hex, or null when the text is not one.</summary>
    public static string? Parse(string text)
    {
        var trimmed = text.Trim();
        var hex = trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? trimmed[2..] : trimmed;
        return hex.Length == 64 && hex.All(Uri.IsHexDigit) ? "0x" + hex.ToLowerInvariant() : null;
    }

    public static string Read(string path) =>
        Parse(File.ReadAllText(path)) ?? throw new InvalidOperationException($"{path} does not hold a private key (0x followed by 64 hex digits).");
}
