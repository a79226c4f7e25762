using System.Numerics;
using AgentDesk.Contracts.Intents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;

namespace AgentDesk.Grains.Intents;

/// <summary>Rebuilds the EIP-712 struct an agent signed from the agent-friendly submission (DESIGN §3.5).</summary>
public static class IntentStructs
{
    public static Outcome<ISignedIntent> Build(IntentSubmission s, Guid agentId, string vault, string token, int tokenDecimals, IReadOnlyList<ExitRule> exits)
    {
        if (s.MaxSlippageBps is < 0 or > ushort.MaxValue)
            return new Rejection("invalid_slippage", $"maxSlippageBps must be between 0 and {ushort.MaxValue}.");
        var id = AgentIds.ToUint256(agentId);
        var slippage = (ushort)s.MaxSlippageBps;
        BigInteger deadline = s.Deadline, nonce = s.Nonce;
        switch (s.Kind)
        {
            case IntentKind.OpenPosition:
            case IntentKind.AddToPosition:
                var usdc = Money.ToBaseUnits(s.UsdcAmount, Money.UsdcDecimals, "usdcAmount");
                if (!usdc.IsSuccess) return usdc.Rejection!;
                var minOut = Money.ToBaseUnits(s.MinTokenOut, tokenDecimals, "minTokenOut");
                if (!minOut.IsSuccess) return minOut.Rejection!;
                return s.Kind == IntentKind.OpenPosition
                    ? new OpenPositionIntent(id, vault, token, usdc.Value, minOut.Value, slippage, ExitsHash.Compute(exits), deadline, nonce)
                    : new AddToPositionIntent(id, vault, token, usdc.Value, minOut.Value, slippage, deadline, nonce);
            case IntentKind.ReducePosition:
                var amount = Money.ToBaseUnits(s.TokenAmount, tokenDecimals, "tokenAmount");
                if (!amount.IsSuccess) return amount.Rejection!;
                var minUsdc = Money.ToBaseUnits(s.MinUsdcOut, Money.UsdcDecimals, "minUsdcOut");
                if (!minUsdc.IsSuccess) return minUsdc.Rejection!;
                return new ReducePositionIntent(id, vault, token, amount.Value, minUsdc.Value, slippage, deadline, nonce);
            case IntentKind.UpdateExitLadder:
                return new UpdateExitLadderIntent(id, vault, token, ExitsHash.Compute(exits), deadline, nonce);
            default:
                return new Rejection("invalid_intent", $"Unknown intent kind {s.Kind}.");
        }
    }
}
