using System.Net;
using System.Numerics;
using Nethereum.Contracts;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// A JSON-RPC connection to one chain with typed calls: views through the contracts' typed messages, logs, receipts, raw
/// requests. Every call is bounded by the RPC timeout and the caller's cancellation.
/// </summary>
public sealed class EvmChain : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public EvmChain(string rpcUrl, TimeSpan? timeout = null)
    {
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
        // Many orders wait on receipts at once: allow as many connections as they need instead of queueing behind two.
        _http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = _timeout,
        };
        Client = new RpcClient(new Uri(rpcUrl), _http, null, null, null);
        Web3 = new Web3(Client);
        RpcUrl = rpcUrl;
    }

    public string RpcUrl { get; }
    public IClient Client { get; }
    public Web3 Web3 { get; }

    public Task<TOut> QueryAsync<TFunction, TOut>(string contract, TFunction function, CancellationToken cancellationToken = default)
        where TFunction : FunctionMessage, new() where TOut : Nethereum.ABI.FunctionEncoding.Attributes.IFunctionOutputDTO, new() =>
        Bounded(Web3.Eth.GetContractQueryHandler<TFunction>().QueryDeserializingToObjectAsync<TOut>(function, contract, null), cancellationToken);

    public Task<TReturn> QueryValueAsync<TFunction, TReturn>(string contract, TFunction function, CancellationToken cancellationToken = default)
        where TFunction : FunctionMessage, new() =>
        Bounded(Web3.Eth.GetContractQueryHandler<TFunction>().QueryAsync<TReturn>(contract, function, null), cancellationToken);

    public async Task<long> ChainIdAsync(CancellationToken cancellationToken = default) =>
        (long)(await Bounded(Web3.Eth.ChainId.SendRequestAsync(), cancellationToken)).Value;

    public async Task<BigInteger> BlockNumberAsync(CancellationToken cancellationToken = default) =>
        (await Bounded(Web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), cancellationToken)).Value;

    public async Task<BigInteger> NonceAsync(string address, BlockParameter block, CancellationToken cancellationToken = default) =>
        (await Bounded(Web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(address, block), cancellationToken)).Value;

    public async Task<BigInteger> GasPriceAsync(CancellationToken cancellationToken = default) =>
        (await Bounded(Web3.Eth.GasPrice.SendRequestAsync(), cancellationToken)).Value;

    /// <summary>The node's suggested priority fee; 0 where the method is unknown (a tip is then not needed).</summary>
    public async Task<BigInteger> PriorityFeeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return (await RpcAsync<HexBigInteger>("eth_maxPriorityFeePerGas", cancellationToken)).Value;
        }
        catch (RpcResponseException)
        {
            return BigInteger.Zero;
        }
    }

    public Task<string> SendRawAsync(string signedHex, CancellationToken cancellationToken = default) =>
        Bounded(Web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(signedHex.StartsWith("0x", StringComparison.Ordinal) ? signedHex : "0x" + signedHex),
            cancellationToken);

    public Task<TransactionReceipt?> ReceiptAsync(string hash, CancellationToken cancellationToken = default) =>
        Bounded(Web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(hash), cancellationToken)!;

    /// <summary>True when the node knows the transaction (pending or mined).</summary>
    public async Task<bool> KnowsTransactionAsync(string hash, CancellationToken cancellationToken = default) =>
        await Bounded(Web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(hash), cancellationToken) is not null;

    public async Task<BigInteger> EstimateGasAsync(string from, string to, byte[] data, CancellationToken cancellationToken = default) =>
        (await Bounded(Web3.Eth.Transactions.EstimateGas.SendRequestAsync(
            new CallInput(Nethereum.Hex.HexConvertors.Extensions.HexByteConvertorExtensions.ToHex(data, true), to) { From = from }), cancellationToken)).Value;

    public async Task<bool> HasCodeAsync(string address, CancellationToken cancellationToken = default)
    {
        var code = await Bounded(Web3.Eth.GetCode.SendRequestAsync(address), cancellationToken);
        return code is { Length: > 2 } && code != "0x0";
    }

    public Task<FilterLog[]> LogsAsync(NewFilterInput filter, CancellationToken cancellationToken = default) =>
        Bounded(Web3.Eth.Filters.GetLogs.SendRequestAsync(filter), cancellationToken);

    /// <summary>A raw JSON-RPC method (anvil_*, evm_*, txpool_* in tests and tools).</summary>
    public Task<T> RpcAsync<T>(string method, CancellationToken cancellationToken = default, params object[] parameters) =>
        Bounded(Client.SendRequestAsync<T>(new RpcRequest(Guid.NewGuid().ToString("N"), method, parameters)), cancellationToken);

    public Task RpcAsync(string method, params object[] parameters) => RpcAsync<object>(method, CancellationToken.None, parameters);

    private Task<T> Bounded<T>(Task<T> call, CancellationToken cancellationToken) => call.WaitAsync(_timeout, cancellationToken);

    /// <summary>Whether an exception is the transport failing (the node may or may not have acted) rather than the node answering.</summary>
    public static bool IsTransportFailure(Exception e) =>
        e is HttpRequestException or TimeoutException or RpcClientTimeoutException or RpcClientUnknownException or TaskCanceledException
        || (e is WebException);

    public void Dispose() => _http.Dispose();
}
