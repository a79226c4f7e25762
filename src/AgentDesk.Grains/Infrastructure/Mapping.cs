using AgentDesk.Contracts.Agents;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;

namespace AgentDesk.Grains.Infrastructure;

/// <summary>Translations between contract messages and domain values.</summary>
public static class Mapping
{
    public static Problem ToProblem(this Rejection rejection) => new(rejection.Code, rejection.Message, rejection.Details);

    public static Side ToDomain(this TradeSide side) => side == TradeSide.Short ? Side.Short : Side.Long;

    public static TradeSide ToContract(this Side side) => side == Side.Short ? TradeSide.Short : TradeSide.Long;

    public static AgentFee ToDomain(this AgentFeeMessage fee) =>
        new(fee.Partner, fee.Fee, fee.FeeAddress, string.Equals(fee.Type, "BPS", StringComparison.OrdinalIgnoreCase) ? FeeType.Bps : FeeType.Flat);

    public static FeeChargeMessage ToContract(this FeeCharge charge) => new(charge.Partner, charge.FeeAddress, charge.AmountUsdc);

    public static ExitRuleMessage ToContract(this ExitRule rule) => new(rule.TriggerType.ToString(), rule.TriggerBps, rule.ExitBps);

    /// <summary>Rules with an unknown trigger type are refused by the caller's validation before they get here.</summary>
    public static Outcome<ExitRule[]> ToDomain(this IReadOnlyList<ExitRuleMessage> rules)
    {
        var result = new ExitRule[rules.Count];
        for (var i = 0; i < rules.Count; i++)
        {
            if (ExitRule.ParseTriggerType(rules[i].TriggerType) is not { } type)
                return new Rejection("invalid_exit_rule", $"exits[{i}]: triggerType must be StopLoss or TakeProfit; got '{rules[i].TriggerType}'.").With("index", i);
            result[i] = new ExitRule(type, rules[i].TriggerBps, rules[i].ExitBps);
        }
        return result;
    }
}
