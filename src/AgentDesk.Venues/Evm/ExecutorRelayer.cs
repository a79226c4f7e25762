using System.Numerics;
using Microsoft.Extensions.Logging;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;
using Nethereum.Model;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Signer;
using Nethereum.Util;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// Sends the transactions of one key (the executor, or a deployer) and waits for their receipts.
/// <list type="bullet">
/// <item>Nonces are allocated here, one send at a time, so transactions reach the node in nonce order. When the node
/// rejects a transaction (or the transport fails), the next nonce is read again from the node's pending count instead of
/// being guessed: a rejected send never leaves a gap that would hold every later transaction back.</item>
/// <item>Every transaction is built and signed afresh (nothing is reused from an earlier attempt), and its hash is computed
/// locally, so a send whose answer was lost can be looked up instead of sent twice.</item>
/// <item>Receipts are polled with a doubling wait (from <see cref="EvmOptions.ReceiptPollMs"/>), and their status is always
/// returned to the caller: a mined transaction may have reverted.</item>
/// </list>
/// </summary>
public sealed class ExecutorRelayer : IDisposable
{
    private const int SendAttempts = 4;
    private static readonly TimeSpan FeeRefresh = TimeSpan.FromSeconds(2);

    private readonly EvmChain _chain;
    private readonly EthECKey _key;
    private readonly long _chainId;
    private readonly EvmOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly Transaction1559Signer _signer = new();
    private BigInteger? _nextNonce;
    private (BigInteger MaxFee, BigInteger Tip, DateTime At)? _fees;

    public ExecutorRelayer(EvmChain chain, string privateKeyHex, long chainId, EvmOptions options, ILogger logger)
    {
        _chain = chain;
        _key = new EthECKey(privateKeyHex);
        _chainId = chainId;
        _options = options;
        _logger = logger;
        Address = _key.GetPublicAddress().ToLowerInvariant();
    }

    /// <summary>The key's address (lower case).</summary>
    public string Address { get; }

    public EvmChain Chain => _chain;

    /// <summary>Sends a transaction and waits for its receipt (which may report a revert: check its status).</summary>
    public async Task<TransactionReceipt> SendAndWaitAsync(string? to, byte[] data, BigInteger gasLimit, CancellationToken cancellationToken = default)
    {
        var hash = await SubmitAsync(to, data, gasLimit, cancellationToken);
        return await WaitAsync(hash, cancellationToken);
    }

    /// <summary>
    /// Signs and submits one transaction with the next nonce; returns its hash once the node has accepted it (not mined).
    /// Throws when the node refuses it: nothing was sent then, and the next send starts from the node's own count.
    /// </summary>
    public async Task<string> SubmitAsync(string? to, byte[] data, BigInteger gasLimit, CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var nonce = _nextNonce ??= await _chain.NonceAsync(Address, BlockParameter.CreatePending(), cancellationToken);
                var (maxFee, tip) = await FeesAsync(cancellationToken);
                var transaction = new Transaction1559(_chainId, nonce, tip, maxFee, gasLimit, to, BigInteger.Zero, data.ToHex(true), []);
                var signed = _signer.SignTransaction(_key, transaction);
                var hash = Sha3Keccack.Current.CalculateHash(signed.HexToByteArray()).ToHex(true);
                try
                {
                    await _chain.SendRawAsync(signed, cancellationToken);
                    _nextNonce = nonce + 1;
                    return hash;
                }
                catch (RpcResponseException e) when (IsAlreadyKnown(e))
                {
                    // These exact signed bytes reached the node before (an earlier answer was lost): it is our transaction.
                    _nextNonce = nonce + 1;
                    return hash;
                }
                catch (RpcResponseException e)
                {
                    // The node answered no: this nonce is still free (or was taken by someone else). Start again from its count.
                    _nextNonce = null;
                    if (IsUnderpriced(e)) _fees = null;
                    if (attempt >= SendAttempts || !IsRetryable(e)) throw;
                    _logger.LogWarning("Transaction {Nonce} from {Address} refused ({Message}); resyncing the nonce and retrying", nonce, Address, e.Message);
                }
                catch (Exception e) when (EvmChain.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    // The answer was lost: the node may have taken the transaction. If it did, it is ours and is sent.
                    _nextNonce = null;
                    if (await KnownAsync(hash, cancellationToken))
                    {
                        _nextNonce = nonce + 1;
                        return hash;
                    }
                    if (attempt >= SendAttempts) throw;
                    _logger.LogWarning(e, "Sending transaction {Nonce} from {Address} failed; retrying", nonce, Address);
                }
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Waits for a receipt, polling with a doubling wait; throws <see cref="TimeoutException"/> at the receipt timeout.</summary>
    public async Task<TransactionReceipt> WaitAsync(string hash, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(_options.ReceiptTimeoutSeconds);
        var wait = TimeSpan.FromMilliseconds(_options.ReceiptPollMs);
        var maxWait = TimeSpan.FromMilliseconds(Math.Max(_options.ReceiptPollMs, _options.ReceiptPollMaxMs));
        while (true)
        {
            try
            {
                if (await _chain.ReceiptAsync(hash, cancellationToken) is { BlockNumber: not null } receipt) return receipt;
            }
            catch (Exception e) when (EvmChain.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning("Reading the receipt of {Hash} failed ({Message}); retrying", hash, e.Message);
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Transaction {hash} was not mined within {_options.ReceiptTimeoutSeconds} s.");
            await Task.Delay(wait, cancellationToken);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, maxWait.Ticks));
        }
    }

    public void Dispose() => _sending.Dispose();

    private async Task<bool> KnownAsync(string hash, CancellationToken cancellationToken)
    {
        try
        {
            return await _chain.KnowsTransactionAsync(hash, cancellationToken);
        }
        catch (Exception e) when (EvmChain.IsTransportFailure(e))
        {
            return false;
        }
    }

    /// <summary>EIP-1559 fees: twice the node's gas price as the cap (the base fee can rise while the transaction waits), its tip.</summary>
    private async Task<(BigInteger MaxFee, BigInteger Tip)> FeesAsync(CancellationToken cancellationToken)
    {
        if (_fees is { } cached && DateTime.UtcNow - cached.At < FeeRefresh) return (cached.MaxFee, cached.Tip);
        var price = await _chain.GasPriceAsync(cancellationToken);
        var tip = await _chain.PriorityFeeAsync(cancellationToken);
        var maxFee = price * 2 + tip;
        _fees = (maxFee, tip, DateTime.UtcNow);
        return (maxFee, tip);
    }

    private static bool IsRetryable(RpcResponseException e)
    {
        var message = e.RpcError?.Message ?? e.Message;
        return message.Contains("nonce", StringComparison.OrdinalIgnoreCase) || IsUnderpriced(e);
    }

    private static bool IsAlreadyKnown(RpcResponseException e) =>
        (e.RpcError?.Message ?? e.Message).Contains("already known", StringComparison.OrdinalIgnoreCase);

    private static bool IsUnderpriced(RpcResponseException e)
    {
        var message = e.RpcError?.Message ?? e.Message;
        return message.Contains("underpriced", StringComparison.OrdinalIgnoreCase)
            || message.Contains("fee cap", StringComparison.OrdinalIgnoreCase)
            || message.Contains("base fee", StringComparison.OrdinalIgnoreCase)
            || message.Contains("max fee", StringComparison.OrdinalIgnoreCase);
    }
}
