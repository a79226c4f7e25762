using System.Collections.Concurrent;
using System.Numerics;
using System.Text;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Domain.Vaults;
using AgentDesk.Venues.Evm.Abi;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Nethereum.ABI;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.RPC.Eth.DTOs;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// Executes on an EVM chain through the TradeRouter (docs/venues.md), with one <see cref="ExecutorRelayer"/> for the
/// executor key. Signed intents are relayed with the agent's own signature, so the chain verifies them again; automatic
/// exits of vault positions fire the signed rung with <c>executeExit</c>; SWAP agents' subscribers trade through
/// <c>batchOpen</c>/<c>batchClose</c>, and concurrent orders of one agent and token are coalesced into chunks of up to
/// <see cref="EvmOptions.BatchChunkSize"/> orders, each caller receiving its own order's event.
/// <para>
/// Every order has a deterministic on-chain id (an intent's is <c>keccak256(abi.encode(agentId, nonce))</c>, any other order's
/// <c>keccak256</c> of its order id), and the router executes an id at most once; <see cref="ReconcileAsync"/> reads what the
/// chain recorded for it. An order whose transaction was sent but whose receipt never came is reported as
/// <see cref="VenueOutcomeUnknownException"/>: the caller keeps it pending and reconciles later, never sends it blindly.
/// </para>
/// </summary>
public sealed class EvmVenue(IOptions<EvmOptions> options, TimeProvider clock, ILogger<EvmVenue> logger) : IExecutionVenue, IDisposable
{
    // batchOpen's fixed cost (≈31k) with room, the gas the router demands left for the last order, and a worst-case order
    // (83.5k measured for a subscriber new to the token). Only gas used is paid.
    private const long BatchBaseGas = 60_000;
    private const long BatchHeadroomGas = 250_000;
    private const long BatchGasPerOrder = 90_000;

    private readonly EvmOptions _options = options.Value;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<BigInteger, AgentOnChain> _agents = new();
    private readonly ConcurrentDictionary<string, int> _decimals = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<(BigInteger Agent, string Token, bool Buy), BatchLane> _lanes = new();
    private Connection? _connection;

    public bool SendsOutsideCluster => true;

    /// <summary>The router's address (the EIP-712 verifying contract).</summary>
    public string Router => _options.Router!;

    // ------------------------------------------------------------------------------------------------------------------
    // Orders
    // ------------------------------------------------------------------------------------------------------------------

    public Task<Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default) =>
        GuardAsync(() => OpenCoreAsync(order, cancellationToken));

    public Task<Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default) =>
        GuardAsync(() => CloseCoreAsync(order, cancellationToken));

    public Task<Outcome<VenueFill>> UpdateLadderAsync(LadderOrder order, CancellationToken cancellationToken = default) =>
        GuardAsync(() => RelayIntentAsync(order.Authorization, cancellationToken));

    /// <summary>
    /// A failure before anything was sent (the node unreachable or refusing, the connection check failing) is a refusal:
    /// the caller may clear its pending order. A failure after a transaction was sent has already become
    /// <see cref="VenueOutcomeUnknownException"/> and passes through: the order stays pending and is reconciled.
    /// </summary>
    private async Task<Outcome<VenueFill>> GuardAsync(Func<Task<Outcome<VenueFill>>> action)
    {
        try
        {
            return await action();
        }
        catch (VenueOutcomeUnknownException)
        {
            throw;
        }
        catch (Exception e) when (EvmChain.IsTransportFailure(e) || e is Nethereum.JsonRpc.Client.RpcResponseException or ChainConnectionException)
        {
            logger.LogWarning("Nothing was sent: {Message}", e.Message);
            return Unavailable(e);
        }
    }

    private async Task<Outcome<VenueFill>> OpenCoreAsync(OpenOrder order, CancellationToken cancellationToken)
    {
        if (order.Authorization is { } intent) return await RelayIntentAsync(intent, cancellationToken);
        if (order.Side != Side.Long)
            return new Rejection(Errors.ShortNotAllowed, "The EVM venue trades spot: it buys tokens, it cannot sell short.");
        if (order.Leverage != 1m)
            return new Rejection(Errors.LeverageTooHigh, $"The EVM venue trades spot at leverage 1; the order asks for {order.Leverage}.").With("maximum", 1m);
        if (await TokenAsync(order, cancellationToken) is not { } token)
            return NoToken(order.Symbol);
        var usdc = Money.ToBaseUnits(Money.FloorUsdc(order.CollateralUsdc), Money.UsdcDecimals, "collateral");
        if (!usdc.IsSuccess) return usdc.Rejection!;
        var minOut = Money.ToBaseUnits(Money.RoundDown(order.MinTokenOut, Math.Min(token.Decimals, 28)), token.Decimals, "minTokenOut");
        if (!minOut.IsSuccess) return minOut.Rejection!;
        return await EnqueueAsync(order, token, buy: true, usdc.Value, minOut.Value, cancellationToken);
    }

    private async Task<Outcome<VenueFill>> CloseCoreAsync(CloseOrder order, CancellationToken cancellationToken)
    {
        if (order.Exit is { } exit) return await ExecuteExitAsync(order, exit, cancellationToken);
        if (order.Authorization is { } intent) return await RelayIntentAsync(intent, cancellationToken);
        if (order.Side != Side.Long) return new Rejection(Errors.ShortNotAllowed, "The EVM venue holds no short positions to buy back.");
        if (await TokenAsync(order, cancellationToken) is not { } token)
            return NoToken(order.Symbol);
        var amount = Money.ToBaseUnits(order.Size, token.Decimals, "size");
        if (!amount.IsSuccess) return amount.Rejection!;
        var minOut = Money.ToBaseUnits(Money.FloorUsdc(order.MinUsdcOut), Money.UsdcDecimals, "minUsdcOut");
        if (!minOut.IsSuccess) return minOut.Rejection!;
        return await EnqueueAsync(order, token, buy: false, amount.Value, minOut.Value, cancellationToken);
    }

    public async Task<Outcome<VenueFill>?> ReconcileAsync(VenueOrder order, CancellationToken cancellationToken = default)
    {
        try
        {
            return await ReconcileCoreAsync(order, cancellationToken);
        }
        catch (Exception e) when (e is not VenueOutcomeUnknownException && (EvmChain.IsTransportFailure(e) || e is Nethereum.JsonRpc.Client.RpcResponseException or ChainConnectionException))
        {
            // Unable to read the chain is not "never executed": the order stays pending until the chain answers.
            throw new VenueOutcomeUnknownException($"What became of order {order.OrderId} cannot be read from the chain now.", e);
        }
    }

    private async Task<Outcome<VenueFill>?> ReconcileCoreAsync(VenueOrder order, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken);
        var intent = order switch
        {
            OpenOrder { Authorization: { } a } => a,
            CloseOrder { Authorization: { } a, Exit: null } => a,
            LadderOrder ladder => ladder.Authorization,
            _ => null,
        };
        if (intent is not null) return await ReconcileIntentAsync(connection, intent, cancellationToken);
        var decimals = order.TokenAddress is { } address ? await DecimalsAsync(connection, address, cancellationToken) : _options.Token(order.Symbol)?.Decimals ?? order.TokenDecimals;
        return await RecordedAsync(connection, OrderIds.For(order.OrderId), decimals, cancellationToken);
    }

    public async Task<Rejection?> CheckAddressAsync(string address, int? tokenDecimals, CancellationToken cancellationToken = default)
    {
        try
        {
            var connection = await ConnectAsync(cancellationToken);
            if (!await connection.Chain.HasCodeAsync(address, cancellationToken))
                return new Rejection(Errors.NotAContract, $"There is no contract at {address} on chain {_options.ChainId}.").With("chainId", _options.ChainId);
            if (tokenDecimals is not { } expected) return null;
            var actual = await DecimalsAsync(connection, address, cancellationToken);
            return actual == expected
                ? null
                : new Rejection(Errors.InvalidDecimals, $"The token at {address} has {actual} decimals on-chain, not {expected}.").With("decimals", actual);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Checking {Address} on chain {ChainId} failed: {Message}", address, _options.ChainId, e.Message);
            return new Rejection(Errors.VenueUnavailable, $"The chain could not be asked about {address}; retry.");
        }
    }

    public async Task<Rejection?> CheckVaultClaimAsync(string vaultAddress, string organization, string vaultId, string? adminSignature,
        CancellationToken cancellationToken = default)
    {
        var claim = new VaultClaim(organization, vaultId, vaultAddress, _options.ChainId);
        // Each refusal says back what to sign, so the admin can sign exactly that.
        Rejection WithClaim(Rejection rejection) => rejection.With("organization", organization).With("vaultId", vaultId).With("chainId", _options.ChainId);
        var signer = claim.Signer(adminSignature);
        if (!signer.IsSuccess) return WithClaim(signer.Rejection!);
        bool isAdmin;
        try
        {
            var connection = await ConnectAsync(cancellationToken);
            isAdmin = await connection.Chain.QueryValueAsync<HasRoleFunction, bool>(claim.VaultAddress,
                new HasRoleFunction { Role = DefaultAdminRole, Account = signer.Value! }, cancellationToken);
        }
        catch (Exception e) when (ChainErrors.IsRevert(e))
        {
            isAdmin = false; // the contract refused the call: it has no AccessControl admin to sign for it
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Checking the admin of vault {Address} on chain {ChainId} failed: {Message}", claim.VaultAddress, _options.ChainId, e.Message);
            return new Rejection(Errors.VenueUnavailable, $"The chain could not be asked who administers {claim.VaultAddress}; retry.");
        }
        return isAdmin
            ? null
            : WithClaim(new Rejection(Errors.NotVaultAdmin,
                    $"{signer.Value} signed the claim but is not an admin of the vault contract at {claim.VaultAddress} on chain {_options.ChainId}.")
                .With("signer", signer.Value!));
    }

    /// <summary>AccessControl's DEFAULT_ADMIN_ROLE: bytes32(0).</summary>
    private static readonly byte[] DefaultAdminRole = new byte[32];

    // ------------------------------------------------------------------------------------------------------------------
    // Signed intents
    // ------------------------------------------------------------------------------------------------------------------

    private async Task<Outcome<VenueFill>> RelayIntentAsync(IntentAuthorization intent, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken);
        var built = IntentStructs.Build(intent.Request, intent.AgentId, intent.VaultAddress, intent.Token);
        if (!built.IsSuccess) return built.Rejection!;
        if (!Hex.TryDecode(intent.Request.Signature, 65, out var signature))
            return new Rejection(Errors.InvalidSignature, "The signature is not 65 bytes of hex.");
        var agentId = AgentIds.ToUint256(intent.AgentId);
        var nonce = new BigInteger(intent.Request.Nonce);

        // The chain must know the agent's signer and stand at this intent's nonce (the gateway may have spent nonces the
        // chain never saw: a rotation, or an intent the chain refused). If the chain is past it, the intent already ran.
        var synced = await SyncAgentAsync(connection, agentId, intent.Signer, nonce, cancellationToken);
        if (!synced.IsSuccess) return synced.Rejection!;
        if (!synced.Value) return await ReconcileIntentAsync(connection, intent, cancellationToken) ?? StaleNonce(nonce, await ChainNonceAsync(connection, agentId, cancellationToken));

        var data = IntentCall(built.Value!, signature);
        BigInteger gas;
        try
        {
            gas = await connection.Chain.EstimateGasAsync(connection.Relayer.Address, Router, data, cancellationToken);
        }
        catch (Exception e) when (ChainErrors.RevertData(e) is { } revert)
        {
            // Refused because it already ran (an earlier send of this same intent was mined in between): that is its outcome.
            if (ChainErrors.Is(revert, "OrderAlreadyExecuted") || ChainErrors.Is(revert, "NonceMismatch"))
                if (await ReconcileIntentAsync(connection, intent, cancellationToken) is { } ran) return ran;
            logger.LogInformation("The router refused intent {Nonce} of agent {AgentId}: {Error}", nonce, intent.AgentId, ChainErrors.Name(revert));
            return ChainErrors.ToRejection(revert);
        }
        catch (Exception e) when (EvmChain.IsTransportFailure(e))
        {
            return Unavailable(e);
        }

        var receipt = await SendAsync(connection, data, gas * 5 / 4 + 30_000, cancellationToken);
        return await AfterSendAsync(receipt.TransactionHash, async () =>
        {
            if (receipt.Status?.Value != 1)
            {
                // Admitted by the estimate, reverted when mined: it ran already (another send won), or the deadline passed in
                // between, say. The chain's record decides; otherwise ask it why now.
                if (await ReconcileIntentAsync(connection, intent, cancellationToken) is { } ran) return ran;
                return await ExplainRevertAsync(connection, data, cancellationToken) ?? new Rejection(Errors.VenueUnavailable, $"Transaction {receipt.TransactionHash} reverted.");
            }
            _agents[agentId] = new AgentOnChain(intent.Signer, nonce + 1);
            return IntentOutcome(receipt, OrderIds.ForIntent(agentId, nonce), intent)
                ?? new Rejection(Errors.VenueUnavailable, $"Transaction {receipt.TransactionHash} carries no outcome for the intent.");
        });
    }

    /// <summary>
    /// Brings the chain's signer and nonce for the agent to the gateway's. False when the chain is already past
    /// <paramref name="nonce"/> (the intent ran, or can no longer run).
    /// </summary>
    private async Task<Outcome<bool>> SyncAgentAsync(Connection connection, BigInteger agentId, string? signer, BigInteger nonce, CancellationToken cancellationToken)
    {
        try
        {
            var known = _agents.GetValueOrDefault(agentId);
            // The cache is only trusted when it already agrees; anything else is read from the chain.
            var chainNonce = known?.Nonce == nonce ? nonce : await ChainNonceAsync(connection, agentId, cancellationToken);
            if (chainNonce > nonce) return false;
            var chainSigner = known?.Nonce == nonce && EthAddress.AreEqual(known.Signer, signer)
                ? signer
                : await connection.Chain.QueryValueAsync<SignerOfFunction, string>(Router, new SignerOfFunction { AgentId = agentId }, cancellationToken);
            var calls = new List<byte[]>();
            if (signer is not null && !EthAddress.AreEqual(chainSigner, signer))
                calls.Add(new SetAgentSignerFunction { AgentId = agentId, Signer = signer }.GetCallData());
            if (chainNonce < nonce)
                calls.Add(new SkipNoncesFunction { AgentId = agentId, NextNonce = nonce }.GetCallData());
            if (calls.Count > 0)
            {
                var data = calls.Count == 1 ? calls[0] : new MulticallFunction { Data = calls }.GetCallData();
                var receipt = await SendAsync(connection, data, 150_000, cancellationToken);
                if (receipt.Status?.Value != 1)
                    return new Rejection(Errors.VenueUnavailable, $"Registering agent {agentId:x} on the TradeRouter failed (transaction {receipt.TransactionHash}).");
                logger.LogInformation("Agent {AgentId:x} on-chain: signer {Signer}, nonce {From} → {To}", agentId, signer, chainNonce, nonce);
            }
            _agents[agentId] = new AgentOnChain(signer, nonce);
            return true;
        }
        // A transaction whose receipt never came may have been mined: not "nothing was sent", so not caught here.
        catch (Exception e) when (e is not VenueOutcomeUnknownException && (EvmChain.IsTransportFailure(e) || e is Nethereum.JsonRpc.Client.RpcResponseException))
        {
            return Unavailable(e);
        }
    }

    private async Task<BigInteger> ChainNonceAsync(Connection connection, BigInteger agentId, CancellationToken cancellationToken) =>
        await connection.Chain.QueryValueAsync<NoncesFunction, BigInteger>(Router, new NoncesFunction { AgentId = agentId }, cancellationToken);

    private static Rejection StaleNonce(BigInteger nonce, BigInteger expected) =>
        new Rejection(Errors.NonceMismatch, $"The TradeRouter is past nonce {nonce} (it expects {expected}); this intent can no longer execute.")
            .With("expectedNonce", expected.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<Outcome<VenueFill>?> ReconcileIntentAsync(Connection connection, IntentAuthorization intent, CancellationToken cancellationToken)
    {
        var agentId = AgentIds.ToUint256(intent.AgentId);
        var nonce = new BigInteger(intent.Request.Nonce);
        var recorded = await RecordedAsync(connection, OrderIds.ForIntent(agentId, nonce), intent.Token.Decimals, cancellationToken);
        if (recorded is not null) return recorded;
        // Never executed. If the chain has moved past its nonce it never will: that is the intent's outcome.
        var chainNonce = await ChainNonceAsync(connection, agentId, cancellationToken);
        if (chainNonce > nonce) return StaleNonce(nonce, chainNonce);
        return null;
    }

    private static byte[] IntentCall(ISignedIntent intent, byte[] signature) => intent switch
    {
        OpenPositionIntent o => new OpenPositionFunction
        {
            Intent = new OpenPositionStruct
            {
                AgentId = o.AgentId, Vault = o.Vault, Token = o.Token, UsdcAmount = o.UsdcAmount, MinTokenOut = o.MinTokenOut,
                MaxSlippageBps = o.MaxSlippageBps, ExitsHash = o.ExitsHash, Deadline = o.Deadline, Nonce = o.Nonce,
            },
            Signature = signature,
        }.GetCallData(),
        AddToPositionIntent a => new AddToPositionFunction
        {
            Intent = new AddToPositionStruct
            {
                AgentId = a.AgentId, Vault = a.Vault, Token = a.Token, UsdcAmount = a.UsdcAmount, MinTokenOut = a.MinTokenOut,
                MaxSlippageBps = a.MaxSlippageBps, Deadline = a.Deadline, Nonce = a.Nonce,
            },
            Signature = signature,
        }.GetCallData(),
        ReducePositionIntent r => new ReducePositionFunction
        {
            Intent = new ReducePositionStruct
            {
                AgentId = r.AgentId, Vault = r.Vault, Token = r.Token, TokenAmount = r.TokenAmount, MinUsdcOut = r.MinUsdcOut,
                MaxSlippageBps = r.MaxSlippageBps, Deadline = r.Deadline, Nonce = r.Nonce,
            },
            Signature = signature,
        }.GetCallData(),
        UpdateExitLadderIntent u => new UpdateExitLadderFunction
        {
            Intent = new UpdateExitLadderStruct { AgentId = u.AgentId, Vault = u.Vault, Token = u.Token, ExitsHash = u.ExitsHash, Deadline = u.Deadline, Nonce = u.Nonce },
            Signature = signature,
        }.GetCallData(),
        _ => throw new ArgumentOutOfRangeException(nameof(intent), intent.PrimaryType, "Not a vault intent."),
    };

    private Outcome<VenueFill>? IntentOutcome(TransactionReceipt receipt, byte[] orderId, IntentAuthorization intent)
    {
        if (intent.Request.Kind == IntentKind.UpdateExitLadder)
        {
            if (!Event<ExitLadderUpdatedEvent>.DecodeAllEvents(RouterLogs(receipt)).Any(e => e.Event.OrderId.AsSpan().SequenceEqual(orderId))) return null;
            return LadderFill(orderId, receipt.TransactionHash);
        }
        return OrderOutcome(receipt, orderId, intent.Token.Decimals);
    }

    // ------------------------------------------------------------------------------------------------------------------
    // Automatic exits of vault positions
    // ------------------------------------------------------------------------------------------------------------------

    private async Task<Outcome<VenueFill>> ExecuteExitAsync(CloseOrder order, LadderExit exit, CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(cancellationToken);
        if (order.TokenAddress is null) return NoToken(order.Symbol);
        var orderId = OrderIds.For(order.OrderId);
        var decimals = await DecimalsAsync(connection, order.TokenAddress, cancellationToken);
        var data = new ExecuteExitFunction
        {
            AgentId = AgentIds.ToUint256(order.AgentId),
            Vault = order.Account,
            Token = order.TokenAddress,
            Rules = exit.Ladder.Select(r => new ExitRuleStruct { TriggerType = (byte)r.TriggerType, TriggerBps = r.TriggerBps, ExitBps = (ushort)r.ExitBps }).ToList(),
            RuleIndex = exit.RuleIndex,
            OrderId = orderId,
        }.GetCallData();
        BigInteger gas;
        try
        {
            gas = await connection.Chain.EstimateGasAsync(connection.Relayer.Address, Router, data, cancellationToken);
        }
        catch (Exception e) when (ChainErrors.RevertData(e) is { } revert)
        {
            // This exit's id ran already (a replay after a crash): its recorded sale is the outcome.
            if (await RecordedAsync(connection, orderId, decimals, cancellationToken) is { } ran) return ran;
            if (ChainErrors.Is(revert, "OrderAlreadyExecuted")) return Inconsistent(revert);
            return ChainErrors.ToRejection(revert);
        }
        catch (Exception e) when (EvmChain.IsTransportFailure(e))
        {
            return Unavailable(e);
        }
        var receipt = await SendAsync(connection, data, gas * 5 / 4 + 30_000, cancellationToken);
        return await AfterSendAsync(receipt.TransactionHash, async () =>
        {
            if (receipt.Status?.Value != 1)
            {
                if (await RecordedAsync(connection, orderId, decimals, cancellationToken) is { } ran) return ran;
                return await ExplainRevertAsync(connection, data, cancellationToken) ?? new Rejection(Errors.VenueUnavailable, $"Exit transaction {receipt.TransactionHash} reverted.");
            }
            return OrderOutcome(receipt, orderId, decimals) ?? new Rejection(Errors.VenueUnavailable, $"Transaction {receipt.TransactionHash} carries no outcome for the exit.");
        });
    }

    // ------------------------------------------------------------------------------------------------------------------
    // Batches: concurrent orders of one agent and token share batchOpen / batchClose transactions
    // ------------------------------------------------------------------------------------------------------------------

    private async Task<Outcome<VenueFill>> EnqueueAsync(VenueOrder order, TokenInfo token, bool buy, BigInteger amount, BigInteger minOut, CancellationToken cancellationToken)
    {
        await ConnectAsync(cancellationToken);
        var agentId = AgentIds.ToUint256(order.AgentId);
        var slippage = (ushort)Math.Clamp(order switch { OpenOrder o => o.MaxSlippageBps, CloseOrder c => c.MaxSlippageBps, _ => 0 }, 0, ushort.MaxValue);
        var item = new BatchItem(OrderIds.For(order.OrderId), order.Account, amount, minOut, slippage, token.Decimals);
        var lane = _lanes.GetOrAdd((agentId, token.Address.ToLowerInvariant(), buy), _ => new BatchLane());
        Task<Outcome<VenueFill>> done;
        var start = false;
        lock (lane)
        {
            // The same order twice (a retry racing its first attempt) waits for the one transaction that carries it.
            if (lane.Waiting.TryGetValue(item.Key, out var same)) done = same.Done.Task;
            else
            {
                lane.Queue.Add(item);
                lane.Waiting[item.Key] = item;
                done = item.Done.Task;
                if (!lane.Draining) start = lane.Draining = true;
            }
        }
        if (start) _ = Task.Run(() => DrainAsync(lane, agentId, token.Address, buy), CancellationToken.None);
        return await done.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Sends what is queued, up to a chunk per transaction, for as long as orders keep arriving. Orders that arrive while a
    /// chunk is being sent wait for the next one, so a burst shares transactions while a lone order goes out at once. A
    /// chunk's receipt is awaited on the side: the next chunk is sent without waiting for the previous one to be mined.
    /// </summary>
    private async Task DrainAsync(BatchLane lane, BigInteger agentId, string token, bool buy)
    {
        while (true)
        {
            if (_options.BatchLingerMs > 0 && QueuedIn(lane) < _options.BatchChunkSize)
                await Task.Delay(TimeSpan.FromMilliseconds(_options.BatchLingerMs), clock);
            List<BatchItem> chunk;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Draining = false;
                    return;
                }
                chunk = lane.Queue.Take(_options.BatchChunkSize).ToList();
                lane.Queue.RemoveRange(0, chunk.Count);
            }
            var data = BatchCall(agentId, token, buy, chunk);
            try
            {
                var connection = await ConnectAsync(CancellationToken.None);
                var hash = await connection.Relayer.SubmitAsync(Router, data, BatchGas(chunk.Count));
                _ = CompleteAsync(connection, lane, chunk, data, hash);
            }
            catch (Exception e) when (e is Nethereum.JsonRpc.Client.RpcResponseException or ChainConnectionException)
            {
                // Refused by the node (or no connection at all): nothing of this chunk executed.
                logger.LogWarning(e, "Sending a batch of {Count} orders for agent {AgentId:x} failed", chunk.Count, agentId);
                Resolve(lane, chunk, _ => Unavailable(e));
            }
            catch (Exception e)
            {
                // The transport failed while sending: the node may have taken it. The callers keep their orders pending.
                logger.LogWarning(e, "Sending a batch of {Count} orders for agent {AgentId:x} may have failed", chunk.Count, agentId);
                Unknown(lane, chunk, $"A transaction carrying order {{0}} may not have reached the node.", e);
            }
        }
    }

    private async Task CompleteAsync(Connection connection, BatchLane lane, List<BatchItem> chunk, byte[] data, string hash)
    {
        try
        {
            var receipt = await connection.Relayer.WaitAsync(hash);
            if (receipt.Status?.Value != 1)
            {
                // Reverted whole (too little gas, a delisted token): nothing executed. Ask the chain what it needs, once.
                logger.LogWarning("Batch transaction {Hash} of {Count} orders reverted; estimating and retrying once", hash, chunk.Count);
                BigInteger gas;
                try
                {
                    gas = await connection.Chain.EstimateGasAsync(connection.Relayer.Address, Router, data);
                }
                catch (Exception e) when (ChainErrors.RevertData(e) is { } revert)
                {
                    Resolve(lane, chunk, _ => ChainErrors.ToRejection(revert));
                    return;
                }
                receipt = await SendAsync(connection, data, gas * 5 / 4 + 30_000, CancellationToken.None);
                if (receipt.Status?.Value != 1)
                {
                    Resolve(lane, chunk, _ => new Rejection(Errors.VenueUnavailable, $"Batch transaction {receipt.TransactionHash} reverted."));
                    return;
                }
            }
            // The receipt's events are decoded once, then handed to each order by its id.
            var events = ReceiptEvents.Of(RouterLogs(receipt));
            var outcomes = new Dictionary<string, Outcome<VenueFill>>(StringComparer.Ordinal);
            var skipped = new List<BatchItem>();
            foreach (var item in chunk)
            {
                if (OrderOutcome(events, receipt.TransactionHash, item.Key, item.TokenDecimals) is { } outcome) outcomes[item.Key] = outcome;
                else skipped.Add(item);
            }
            // Skipped: the router had executed that id before (a retry after a crash): its first outcome is the outcome.
            foreach (var item in skipped)
                outcomes[item.Key] = await RecordedAsync(connection, item.OrderId, item.TokenDecimals, CancellationToken.None)
                    ?? new Rejection(Errors.VenueUnavailable, $"Transaction {receipt.TransactionHash} carries no outcome for order {item.Key}.");
            Resolve(lane, chunk, item => outcomes[item.Key]);
        }
        catch (Exception e)
        {
            // Sent, but what became of it is unknown: the callers keep their orders pending and reconcile.
            logger.LogWarning(e, "Batch transaction {Hash} has no receipt yet", hash);
            Unknown(lane, chunk, $"Transaction {hash} carrying order {{0}} has no receipt yet.", e);
        }
    }

    private static void Unknown(BatchLane lane, List<BatchItem> chunk, string message, Exception cause)
    {
        lock (lane)
        {
            foreach (var item in chunk)
            {
                lane.Waiting.Remove(item.Key);
                item.Done.TrySetException(new VenueOutcomeUnknownException(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, item.Key), cause));
            }
        }
    }

    private static int QueuedIn(BatchLane lane)
    {
        lock (lane) return lane.Queue.Count;
    }

    private static void Resolve(BatchLane lane, List<BatchItem> chunk, Func<BatchItem, Outcome<VenueFill>> outcome)
    {
        lock (lane)
        {
            foreach (var item in chunk)
            {
                lane.Waiting.Remove(item.Key);
                item.Done.TrySetResult(outcome(item));
            }
        }
    }

    private static byte[] BatchCall(BigInteger agentId, string token, bool buy, List<BatchItem> chunk) => buy
        ? new BatchOpenFunction
        {
            AgentId = agentId, Token = token,
            Orders = chunk.Select(i => new BatchBuyStruct { OrderId = i.OrderId, Account = i.Account, UsdcAmount = i.Amount, MinTokenOut = i.MinOut, MaxSlippageBps = i.MaxSlippageBps }).ToList(),
        }.GetCallData()
        : new BatchCloseFunction
        {
            AgentId = agentId, Token = token,
            Orders = chunk.Select(i => new BatchSellStruct { OrderId = i.OrderId, Account = i.Account, TokenAmount = i.Amount, MinUsdcOut = i.MinOut, MaxSlippageBps = i.MaxSlippageBps }).ToList(),
        }.GetCallData();

    private static BigInteger BatchGas(int orders) => BatchBaseGas + BatchHeadroomGas + BatchGasPerOrder * orders;

    // ------------------------------------------------------------------------------------------------------------------
    // What the chain recorded
    // ------------------------------------------------------------------------------------------------------------------

    /// <summary>The router's record of an order (status, then the event with its transaction), or null when it never executed.</summary>
    private async Task<Outcome<VenueFill>?> RecordedAsync(Connection connection, byte[] orderId, int decimals, CancellationToken cancellationToken)
    {
        var record = await connection.Chain.QueryAsync<OrdersFunction, OrderRecordOutput>(Router, new OrdersFunction { OrderId = orderId }, cancellationToken);
        if (record.Status == 0) return null;
        var filter = new NewFilterInput
        {
            Address = [Router],
            FromBlock = new BlockParameter((ulong)Math.Max(0, _options.DeploymentBlock)),
            ToBlock = BlockParameter.CreateLatest(),
            Topics = [new object[] { Topic<OrderFilledEvent>(), Topic<OrderFailedEvent>(), Topic<ExitLadderUpdatedEvent>() }, orderId.ToHex(true)],
        };
        var logs = await connection.Chain.LogsAsync(filter, cancellationToken);
        if (Event<OrderFilledEvent>.DecodeAllEvents(logs).FirstOrDefault() is { } filled) return Fill(filled.Event, filled.Log.TransactionHash, decimals);
        if (Event<OrderFailedEvent>.DecodeAllEvents(logs).FirstOrDefault() is { } failed) return ChainErrors.FromReason(failed.Event.Reason);
        if (Event<ExitLadderUpdatedEvent>.DecodeAllEvents(logs).FirstOrDefault() is { } ladder) return LadderFill(orderId, ladder.Log.TransactionHash);
        // The node no longer serves those logs: the record alone still says what moved.
        logger.LogWarning("Order {OrderId} is recorded on-chain but its event was not found; answering from the record", orderId.ToHex(true));
        if (record.Status != 1) return new Rejection(Errors.VenueUnavailable, "The order failed on-chain; its reason is no longer available from the node.");
        var size = Money.FromBaseUnits(record.TokenAmount, decimals);
        var price = size > 0 ? Money.FromBaseUnits(record.UsdcAmount, Money.UsdcDecimals) / size : 0m;
        return new VenueFill(price, size, orderId.ToHex(true), "", null, _options.ChainId, Simulated: false, clock.GetUtcNow());
    }

    /// <summary>The order's event in a receipt: its fill, its failure, or null when the receipt does not carry it (skipped).</summary>
    private Outcome<VenueFill>? OrderOutcome(TransactionReceipt receipt, byte[] orderId, int decimals) =>
        OrderOutcome(ReceiptEvents.Of(RouterLogs(receipt)), receipt.TransactionHash, orderId.ToHex(true), decimals);

    private Outcome<VenueFill>? OrderOutcome(ReceiptEvents events, string transactionHash, string orderId, int decimals)
    {
        if (events.Filled.TryGetValue(orderId, out var filled)) return Fill(filled, transactionHash, decimals);
        if (events.Failed.TryGetValue(orderId, out var failed)) return ChainErrors.FromReason(failed.Reason);
        return null;
    }

    /// <summary>A receipt's fills and failures by order id (hex), decoded once: a 150-order batch carries hundreds of logs.</summary>
    private sealed record ReceiptEvents(Dictionary<string, OrderFilledEvent> Filled, Dictionary<string, OrderFailedEvent> Failed)
    {
        public static ReceiptEvents Of(FilterLog[] logs)
        {
            var filledTopic = Topic<OrderFilledEvent>();
            var failedTopic = Topic<OrderFailedEvent>();
            var filled = new Dictionary<string, OrderFilledEvent>(StringComparer.OrdinalIgnoreCase);
            var failed = new Dictionary<string, OrderFailedEvent>(StringComparer.OrdinalIgnoreCase);
            foreach (var log in logs)
            {
                // Only the router's order events are decoded; the topic says which one a log is.
                var topic = log.Topics is { Length: > 1 } topics ? topics[0]?.ToString() : null;
                if (string.Equals(topic, filledTopic, StringComparison.OrdinalIgnoreCase))
                {
                    var e = Event<OrderFilledEvent>.DecodeEvent(log).Event;
                    filled[e.OrderId.ToHex(true)] = e;
                }
                else if (string.Equals(topic, failedTopic, StringComparison.OrdinalIgnoreCase))
                {
                    var e = Event<OrderFailedEvent>.DecodeEvent(log).Event;
                    failed[e.OrderId.ToHex(true)] = e;
                }
            }
            return new ReceiptEvents(filled, failed);
        }
    }

    private FilterLog[] RouterLogs(TransactionReceipt receipt) =>
        receipt.Logs.Where(l => EthAddress.AreEqual(l.Address, Router)).ToArray();

    private VenueFill Fill(OrderFilledEvent filled, string transactionHash, int decimals) => new(
        Money.FromBaseUnits(filled.PriceE8, 8), Money.FromBaseUnits(filled.TokenAmount, decimals), filled.OrderId.ToHex(true), transactionHash,
        _options.ExplorerUrl(transactionHash), _options.ChainId, Simulated: false, clock.GetUtcNow());

    private VenueFill LadderFill(byte[] orderId, string transactionHash) =>
        new(0m, 0m, orderId.ToHex(true), transactionHash, _options.ExplorerUrl(transactionHash), _options.ChainId, Simulated: false, clock.GetUtcNow());

    private static string Topic<TEvent>() where TEvent : Nethereum.ABI.FunctionEncoding.Attributes.IEventDTO, new() => EventTopic<TEvent>.Value;

    private static class EventTopic<TEvent> where TEvent : Nethereum.ABI.FunctionEncoding.Attributes.IEventDTO, new()
    {
        public static readonly string Value = "0x" + Event<TEvent>.GetEventABI().Sha3Signature.Replace("0x", "", StringComparison.Ordinal);
    }

    // ------------------------------------------------------------------------------------------------------------------
    // Plumbing
    // ------------------------------------------------------------------------------------------------------------------

    /// <summary>Sends through the executor and waits; an unknown outcome (no receipt in time) becomes <see cref="VenueOutcomeUnknownException"/>.</summary>
    private static async Task<TransactionReceipt> SendAsync(Connection connection, byte[] data, BigInteger gas, CancellationToken cancellationToken)
    {
        string hash;
        try
        {
            hash = await connection.Relayer.SubmitAsync(connection.Router, data, gas, cancellationToken);
        }
        catch (Exception e) when (EvmChain.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            // The node may have taken it after all: not a refusal. (A refusal by the node, an RpcResponseException, is.)
            throw new VenueOutcomeUnknownException("Sending a transaction failed; the node may have received it.", e);
        }
        try
        {
            return await connection.Relayer.WaitAsync(hash, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException || EvmChain.IsTransportFailure(e))
        {
            throw new VenueOutcomeUnknownException($"Transaction {hash} was sent but has no receipt yet.", e);
        }
    }

    /// <summary>What follows a sent transaction: a failure to read the chain now leaves the order's outcome unknown, not refused.</summary>
    private static async Task<Outcome<VenueFill>> AfterSendAsync(string hash, Func<Task<Outcome<VenueFill>>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is not VenueOutcomeUnknownException && (EvmChain.IsTransportFailure(e) || e is Nethereum.JsonRpc.Client.RpcResponseException))
        {
            throw new VenueOutcomeUnknownException($"Transaction {hash} was mined but its outcome could not be read.", e);
        }
    }

    /// <summary>Why a mined transaction reverted, asked again with an estimate now (null when it would pass now).</summary>
    private async Task<Rejection?> ExplainRevertAsync(Connection connection, byte[] data, CancellationToken cancellationToken)
    {
        try
        {
            await connection.Chain.EstimateGasAsync(connection.Relayer.Address, Router, data, cancellationToken);
            return null;
        }
        catch (Exception e) when (ChainErrors.RevertData(e) is { } revert)
        {
            return ChainErrors.ToRejection(revert);
        }
    }

    private async Task<TokenInfo?> TokenAsync(VenueOrder order, CancellationToken cancellationToken)
    {
        var address = order.TokenAddress ?? _options.Token(order.Symbol)?.Address;
        if (address is null) return null;
        var connection = await ConnectAsync(cancellationToken);
        return new TokenInfo(address, await DecimalsAsync(connection, address, cancellationToken));
    }

    /// <summary>A token's decimals: as configured, else as the contract reports them (read once).</summary>
    private async Task<int> DecimalsAsync(Connection connection, string token, CancellationToken cancellationToken)
    {
        if (_decimals.TryGetValue(token, out var known)) return known;
        var configured = _options.Tokens.Values.FirstOrDefault(t => EthAddress.AreEqual(t.Address, token));
        var decimals = configured?.Decimals
            ?? await connection.Chain.QueryValueAsync<DecimalsFunction, byte>(token, new DecimalsFunction(), cancellationToken);
        _decimals[token] = decimals;
        return decimals;
    }

    private Rejection NoToken(string symbol) =>
        new Rejection(Errors.SymbolNotAllowed, $"No token is configured for {symbol} on chain {_options.ChainId} (AgentDesk:Evm:Tokens).").With("symbol", symbol);

    private static Rejection Inconsistent(string revert) =>
        new Rejection(Errors.VenueUnavailable, "The router says the order executed, but holds no record of it.").With("chainError", ChainErrors.Name(revert) ?? "unknown");

    private static Rejection Unavailable(Exception e) =>
        new Rejection(Errors.VenueUnavailable, $"The chain could not be reached ({e.GetType().Name}); nothing was sent.");

    /// <summary>Connects once: checks the node's chain id against the configuration and reads the executor key.</summary>
    private async Task<Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } ready) return ready;
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { } raced) return raced;
            var chain = new EvmChain(_options.RpcUrl!, TimeSpan.FromSeconds(_options.RpcTimeoutSeconds));
            try
            {
                var chainId = await chain.ChainIdAsync(cancellationToken);
                if (chainId != _options.ChainId)
                    throw new InvalidOperationException($"The node at {_options.RpcUrl} serves chain {chainId}, not the configured {_options.ChainId}.");
                var relayer = new ExecutorRelayer(chain, ExecutorKey.Read(_options.ExecutorKeyFile!), chainId, _options, logger);
                logger.LogInformation("EVM venue on chain {ChainId} at {RpcUrl}: router {Router}, executor {Executor}", chainId, _options.RpcUrl, Router, relayer.Address);
                return _connection = new Connection(chain, relayer, Router);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                chain.Dispose();
                throw new ChainConnectionException($"Connecting to chain {_options.ChainId} at {_options.RpcUrl} failed: {e.Message}", e);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    public void Dispose()
    {
        _connection?.Relayer.Dispose();
        _connection?.Chain.Dispose();
        _connecting.Dispose();
    }

    private sealed record Connection(EvmChain Chain, ExecutorRelayer Relayer, string Router);

    private sealed record AgentOnChain(string? Signer, BigInteger Nonce);

    private sealed record TokenInfo(string Address, int Decimals);

    private sealed class BatchLane
    {
        public List<BatchItem> Queue { get; } = [];
        public Dictionary<string, BatchItem> Waiting { get; } = new(StringComparer.Ordinal);
        public bool Draining { get; set; }
    }

    private sealed class BatchItem(byte[] orderId, string account, BigInteger amount, BigInteger minOut, ushort maxSlippageBps, int tokenDecimals)
    {
        public byte[] OrderId { get; } = orderId;
        public string Key { get; } = orderId.ToHex(true);
        public string Account { get; } = account;
        public BigInteger Amount { get; } = amount;
        public BigInteger MinOut { get; } = minOut;
        public ushort MaxSlippageBps { get; } = maxSlippageBps;
        public int TokenDecimals { get; } = tokenDecimals;
        public TaskCompletionSource<Outcome<VenueFill>> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

/// <summary>On-chain order ids (docs/venues.md): an intent's is the router's <c>intentOrderId</c>, any other order's the keccak of its id.</summary>
public static class OrderIds
{
    public static byte[] For(string orderId) => Eip712Encoding.Keccak(Encoding.UTF8.GetBytes(orderId));

    /// <summary><c>keccak256(abi.encode(agentId, nonce))</c>, as <c>TradeRouter.intentOrderId</c>.</summary>
    public static byte[] ForIntent(BigInteger agentId, BigInteger nonce) =>
        Eip712Encoding.Keccak(new ABIEncode().GetABIEncoded(new ABIValue("uint256", agentId), new ABIValue("uint256", nonce)));
}

/// <summary>The venue could not connect to its chain (unreachable, another chain id, no key): nothing was sent.</summary>
public sealed class ChainConnectionException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// An order was sent to the chain but what became of it is not known yet (no receipt within the timeout, or the node
/// stopped answering). The caller keeps the order pending and reconciles it later; it must not send it again blindly.
/// A <see cref="TimeoutException"/>, so the cluster treats it as transient (503 with Retry-After over HTTP).
/// </summary>
public sealed class VenueOutcomeUnknownException(string message, Exception? inner = null) : TimeoutException(message, inner);
