using System.Globalization;
using System.Numerics;
using AgentDesk.Domain.Common;
using Nethereum.ABI.Model;
using Nethereum.Contracts;
using Nethereum.Hex.HexConvertors.Extensions;
using Nethereum.JsonRpc.Client;

namespace AgentDesk.Venues.Evm;

/// <summary>
/// The router's and pool's custom errors, by selector, and the problem code each one becomes. Reverts (an intent the chain
/// refused at admission) and the reasons of <c>OrderFailed</c> (an order the chain recorded as failed) map the same way.
/// </summary>
public static class ChainErrors
{
    private static readonly Dictionary<string, ErrorABI> BySelector = new[] { "TradeRouter", "OraclePool", "TokenRegistry", "Vault", "TestToken" }
        .SelectMany(c => ContractArtifacts.Abi(c).Errors)
        .GroupBy(e => "0x" + e.Sha3Signature.ToLowerInvariant().Replace("0x", "", StringComparison.Ordinal)[..8])
        .ToDictionary(g => g.Key, g => g.First());

    /// <summary>The error's name for revert data or a 4-byte reason, or null when no contract of the venue declares it.</summary>
    public static string? Name(string? data) => Abi(data)?.Name;

    public static bool Is(string? data, string name) => string.Equals(Name(data), name, StringComparison.Ordinal);

    /// <summary>
    /// A call the contract reverted (with or without data), as opposed to a node that could not answer (a rate limit, a
    /// missing block): only the former says anything about the contract.
    /// </summary>
    public static bool IsRevert(Exception e) =>
        e is Nethereum.ABI.FunctionEncoding.SmartContractRevertException || RevertData(e) is not null
        || (e is RpcResponseException rpc && rpc.RpcError?.Message?.Contains("revert", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The revert data an RPC call failed with, or null when the failure carried none (a transport failure, say).</summary>
    public static string? RevertData(Exception e) => e switch
    {
        SmartContractCustomErrorRevertException custom => custom.ExceptionEncodedData,
        RpcResponseException rpc => HexData(rpc.RpcError?.GetDataAsString()),
        AggregateException { InnerException: { } inner } => RevertData(inner),
        _ when e.InnerException is { } inner => RevertData(inner),
        _ => null,
    };

    /// <summary>The problem an on-chain error becomes.</summary>
    public static Rejection ToRejection(string? data)
    {
        var error = Abi(data);
        var name = error?.Name ?? "an unknown error";
        var rejection = error?.Name switch
        {
            "InvalidSignature" => new Rejection(Errors.InvalidSignature, "The TradeRouter refused the signature: it does not recover to the agent's signer registered on-chain."),
            "NonceMismatch" => NonceMismatch(error, data!),
            "DeadlineExpired" => new Rejection(Errors.DeadlineExpired, "The intent's deadline passed before the chain executed it."),
            "TokenNotAllowed" => new Rejection(Errors.SymbolNotAllowed, "The token is not in the vault's on-chain allowlist (TokenRegistry)."),
            "TokenNotListed" or "NotListed" => new Rejection(Errors.SymbolNotAllowed, "The token is not listed in the on-chain TokenRegistry."),
            "PositionAlreadyOpen" => new Rejection(Errors.PositionAlreadyOpen, "The TradeRouter already holds an open position for this agent, vault and token."),
            "NoOpenPosition" => new Rejection(Errors.PositionNotFound, "The TradeRouter holds no open position for this agent, vault and token."),
            "InsufficientPositionSize" => new Rejection(Errors.InsufficientPositionSize, "The on-chain position is smaller than the amount to sell."),
            "ZeroAmount" => new Rejection(Errors.InvalidAmount, "The amount is zero in the token's base units."),
            "SlippageExceeded" => new Rejection(Errors.SlippageExceeded, "The pool's spread exceeds the order's maxSlippageBps."),
            "MinOutNotMet" => new Rejection(Errors.MinOutNotMet, "The fill would give less than the order's minimum out."),
            "ConsentMissing" => new Rejection(Errors.ConsentMissing, "The account has not consented on-chain (TradeRouter.setConsent) to be traded by this agent."),
            "InsufficientBalance" => new Rejection(Errors.InsufficientFunds, "The account holds less than the order's input on-chain."),
            "InsufficientAllowance" => new Rejection(Errors.InsufficientFunds, "The account's approval to the TradeRouter is below the order's input."),
            "StalePrice" => new Rejection(Errors.StalePrice, "The on-chain price feed is older than the pool accepts."),
            "InvalidPrice" => new Rejection(Errors.NoPrice, "The on-chain price feed has no positive price."),
            "ZeroOutput" => new Rejection(Errors.SizeTooSmall, "The order is too small to buy one base unit."),
            "ExitNotReached" or "ExitAlreadyFired" => new Rejection(Errors.ExitNotReached, "The exit rule is not reached at the on-chain price (or has already fired)."),
            "ExitsHashMismatch" or "RuleIndexOutOfRange" or "InvalidExitRule" => new Rejection(Errors.InvalidExits, "The exit ladder differs from the one the agent signed on-chain."),
            "AccessControlUnauthorizedAccount" => new Rejection(Errors.VenueUnavailable, "The executor key lacks the TradeRouter's EXECUTOR role."),
            _ => new Rejection(Errors.VenueUnavailable, $"The chain refused the order with {name}."),
        };
        return rejection.With("chainError", name);
    }

    /// <summary>The problem for an <c>OrderFailed</c> reason (a 4-byte selector).</summary>
    public static Rejection FromReason(byte[] reason) => ToRejection(reason.ToHex(true));

    private static Rejection NonceMismatch(ErrorABI error, string data)
    {
        var values = ErrorExtensions.DecodeExceptionEncodedDataToDefault(error, data);
        var expected = (BigInteger)values[0].Result;
        return new Rejection(Errors.NonceMismatch, $"The TradeRouter expects nonce {expected} for this agent.")
            .With("expectedNonce", expected.ToString(CultureInfo.InvariantCulture));
    }

    private static ErrorABI? Abi(string? data)
    {
        if (data is null || data.Length < 10 || !data.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) return null;
        return BySelector.GetValueOrDefault(data[..10].ToLowerInvariant());
    }

    private static string? HexData(string? text) =>
        text is not null && text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text : text?.Trim('"') is { } trimmed && trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? trimmed : null;
}
