using System.Numerics;
using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Intents;

/// <summary>Rebuilds the EIP-712 struct an agent signed from the agent-friendly request (docs/intents.md).</summary>
public static class IntentStructs
{
    public static Outcome<ISignedIntent> Build(IntentRequest request, Guid agentId, string vaultAddress, VaultToken token)
    {
        if (request.MaxSlippageBps is < 0 or > ushort.MaxValue)
            return new Rejection(Errors.InvalidSlippage, $"maxSlippageBps must be between 0 and {ushort.MaxValue}.");
        var id = AgentIds.ToUint256(agentId);
        var slippage = (ushort)request.MaxSlippageBps;
        BigInteger deadline = request.Deadline, nonce = request.Nonce;
        switch (request.Kind)
        {
            case IntentKind.OpenPosition:
            case IntentKind.AddToPosition:
                var usdc = Money.ToBaseUnits(request.UsdcAmount, Money.UsdcDecimals, "usdcAmount");
                if (!usdc.IsSuccess) return usdc.Rejection!;
                var minOut = Money.ToBaseUnits(request.MinTokenOut, token.Decimals, "minTokenOut");
                if (!minOut.IsSuccess) return minOut.Rejection!;
                return request.Kind == IntentKind.OpenPosition
                    ? new OpenPositionIntent(id, vaultAddress, token.Address, usdc.Value, minOut.Value, slippage, ExitsHash.Compute(request.Exits), deadline, nonce)
                    : new AddToPositionIntent(id, vaultAddress, token.Address, usdc.Value, minOut.Value, slippage, deadline, nonce);
            case IntentKind.ReducePosition:
                var amount = Money.ToBaseUnits(request.TokenAmount, token.Decimals, "tokenAmount");
                if (!amount.IsSuccess) return amount.Rejection!;
                var minUsdc = Money.ToBaseUnits(request.MinUsdcOut, Money.UsdcDecimals, "minUsdcOut");
                if (!minUsdc.IsSuccess) return minUsdc.Rejection!;
                return new ReducePositionIntent(id, vaultAddress, token.Address, amount.Value, minUsdc.Value, slippage, deadline, nonce);
            case IntentKind.UpdateExitLadder:
                return new UpdateExitLadderIntent(id, vaultAddress, token.Address, ExitsHash.Compute(request.Exits), deadline, nonce);
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.Kind, "Unknown intent kind.");
        }
    }
}
