using System.Text.Json;
using AgentDesk.Domain.Agents;
using AgentDesk.Domain.Common;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Sizing;
using CsCheck;

namespace AgentDesk.Domain.Tests.Properties;

/// <summary>Invariants checked over random inputs (CsCheck shrinks any counter-example it finds).</summary>
public class DomainProperties
{
    private static readonly Gen<decimal> Usdc = Gen.Long[0, 10_000_000_000].Select(units => units / 1_000_000m);
    private static readonly Gen<decimal> Weight = Gen.Int[1, 10_000].Select(w => w / 100m);
    private static readonly Gen<decimal> Leverage = Gen.Int[11, 500].Select(l => l / 10m);
    private static readonly Gen<decimal> Price = Gen.Int[1_000, 1_000_000].Select(p => p / 100m);

    private static readonly Gen<AgentFee[]> Fees = Gen.OneOf(
        Gen.Int[0, 500].Select(f => new AgentFee("flat", f / 100m, "0xf", FeeType.Flat)),
        Gen.Int[0, 100].Select(f => new AgentFee("bps", f, "0xb", FeeType.Bps))).Array[0, 3];

    [Fact]
    public void A_sized_trade_never_uses_more_than_the_free_collateral()
    {
        Gen.Select(Usdc, Weight, Leverage, Fees).Sample((free, weight, leverage, fees) =>
        {
            var outcome = TradeSizing.Size(free, weight, leverage, fees, FeeCaps.Default);
            if (!outcome.IsSuccess) return outcome.Rejection!.Code.Code == "below_min_trade_size";
            var trade = outcome.Value!;
            return trade.CollateralUsdc + trade.FeesUsdc <= free * weight / 100m
                && trade.CollateralUsdc >= Money.MinimumTradeUsdc
                && trade.Fees.All(f => f.AmountUsdc >= 0);
        }, iter: 5_000);
    }

    [Fact]
    public void Base_units_are_the_amount_exactly_however_many_trailing_zeros_it_is_written_with()
    {
        // An amount of an 18-decimal token below 10^10 with 0 to 18 places, written with 0 to 10 trailing zeros more.
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        Gen.Select(Gen.Long[0, 9_999_999_999], Gen.Long[0, 999_999_999_999_999_999], Gen.Int[0, 18], Gen.Int[0, 10]).Sample((whole, fraction, places, padding) =>
        {
            var divisor = 1m;
            for (var i = 0; i < places; i++) divisor *= 10;
            var amount = whole + fraction % divisor / divisor;
            var written = Money.ParseAmount(amount.ToString("F" + (places + padding), invariant), "a").Unwrap();
            var units = Money.ToBaseUnits(written, 18, "a").Unwrap();
            return units == System.Numerics.BigInteger.Parse(amount.ToString("F18", invariant).Replace(".", "", StringComparison.Ordinal), invariant)
                && Money.FromBaseUnits(units, 18) == amount;
        }, iter: 5_000);
    }

    private static readonly Gen<ExitRule[]> ValidLadder =
        Gen.Select(
                Gen.Int[-3_000, -1].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.StopLoss, t, e)).Array[0, 3],
                Gen.Int[1, 5_000].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.TakeProfit, t, e)).Array[0, 3],
                Gen.Bool)
            .Where((sl, tp, _) => sl.Length + tp.Length > 0)
            .Select((sl, tp, slFirst) =>
            {
                // Each kind listed nearest level first: the order a smooth price path would reach them in.
                var stops = sl.OrderByDescending(r => r.TriggerBps);
                var targets = tp.OrderBy(r => r.TriggerBps);
                var rules = (slFirst ? stops.Concat(targets) : targets.Concat(stops)).ToArray();
                rules[^1] = rules[^1] with { ExitBps = ExitLadder.FullExitBps };
                return rules;
            });

    private static readonly Gen<decimal[]> Path = Gen.Int[5_000, 15_000].Select(p => p / 100m).Array[1, 30];

    private static (List<ExitFill> Fills, decimal Remaining, ExitPlan Plan) Run(ExitPlan plan, ExitSubject position, IEnumerable<decimal> prices)
    {
        var fills = new List<ExitFill>();
        var remaining = position.Size;
        foreach (var price in prices)
        {
            if (remaining == 0) break;
            var decision = ExitEvaluator.Evaluate(plan, position with { Size = remaining }, price);
            plan = decision.Plan;
            remaining = decision.RemainingSize;
            fills.AddRange(decision.Fills);
        }
        return (fills, remaining, plan);
    }

    [Fact]
    public void Exits_never_sell_more_than_is_held()
    {
        Gen.Select(ValidLadder, Path, Gen.Int[1, 1_000_000], Gen.Int[0, 18], Gen.Bool, Gen.Int[0, 30])
            .Sample((ladder, path, units, decimals, isLong, trailing) =>
            {
                var size = Money.RoundDown(units / 1000m, decimals);
                if (size <= 0) return true;
                var side = isLong ? Side.Long : Side.Short;
                var plan = ExitPlan.FromLadder(ladder) with { Trailing = trailing > 0 ? new TrailingStop(trailing, 100m) : null };
                var (fills, remaining, _) = Run(plan, new ExitSubject(side, 100m, 2m, size, decimals), path);
                return fills.All(f => f.Size > 0) && fills.Sum(f => f.Size) + remaining == size && remaining >= 0;
            }, iter: 3_000);
    }

    [Fact]
    public void Level_based_exits_fire_the_same_however_the_path_is_split_into_ticks()
    {
        // Inserting intermediate ticks between consecutive prices (a smoother feed of the same path)
        // must fire the same rules, in the same order, with the same sizes.
        Gen.Select(ValidLadder, Path, Gen.Int[1, 8], Gen.Bool, Gen.Int[0, 2])
            .Sample((ladder, path, steps, isLong, absolute) =>
            {
                var side = isLong ? Side.Long : Side.Short;
                // Either a ladder (each kind nearest level first) or absolute prices. Mixed, a gap fires the
                // ladder before the absolute prices, which a smooth path may reach first (docs/exits.md).
                var plan = absolute == 0
                    ? ExitPlan.FromLadder(ladder)
                    : ExitPlan.None with { StopLossPrice = isLong ? 80m : 120m, TakeProfitPrice = absolute == 2 ? (isLong ? 130m : 70m) : null };
                var position = new ExitSubject(side, 100m, 1.5m, 1000m, 6);

                var coarse = Run(plan, position, path);
                var fine = Run(plan, position, Refine(path, steps));
                return coarse.Fills.SequenceEqual(fine.Fills) && coarse.Remaining == fine.Remaining;
            }, iter: 3_000);
    }

    [Fact]
    public void An_exit_plan_survives_being_stored_between_ticks()
    {
        // A position grain stores its plan as JSON and may be deactivated between any two ticks.
        Gen.Select(ValidLadder, Path, Gen.Int[1, 29]).Sample((ladder, path, cut) =>
        {
            var position = new ExitSubject(Side.Long, 100m, 2m, 1000m, 6);
            var plan = ExitPlan.FromLadder(ladder) with { Trailing = new TrailingStop(7m, 100m) };
            var whole = Run(plan, position, path);

            var split = Math.Min(cut, path.Length);
            var first = Run(plan, position, path.Take(split));
            var stored = JsonSerializer.Deserialize<ExitPlan>(JsonSerializer.Serialize(first.Plan))!;
            var second = Run(stored, position with { Size = first.Remaining }, first.Remaining == 0 ? [] : path.Skip(split));
            return whole.Fills.SequenceEqual(first.Fills.Concat(second.Fills)) && whole.Remaining == (first.Remaining == 0 ? 0 : second.Remaining);
        }, iter: 2_000);
    }

    /// <summary>Adds <paramref name="steps"/> evenly spaced ticks between each pair of consecutive prices.</summary>
    private static IEnumerable<decimal> Refine(decimal[] path, int steps)
    {
        yield return path[0];
        for (var i = 1; i < path.Length; i++)
        {
            for (var k = 1; k < steps; k++)
                yield return path[i - 1] + (path[i] - path[i - 1]) * k / steps;
            yield return path[i];
        }
    }
}

public class ExitEnvelopeProperties
{
    private static readonly Gen<ExitRule[]> Ladder =
        Gen.Select(
                Gen.Int[-3_000, -1].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.StopLoss, t, e)).Array[0, 3],
                Gen.Int[1, 5_000].Select(Gen.Int[1, 10_000], (t, e) => new ExitRule(ExitTriggerType.TakeProfit, t, e)).Array[0, 3])
            .Where((sl, tp) => sl.Length + tp.Length > 0)
            .Select((sl, tp) =>
            {
                var rules = sl.Concat(tp).ToArray();
                rules[^1] = rules[^1] with { ExitBps = ExitLadder.FullExitBps };
                return rules;
            });

    [Fact]
    public void Inside_the_envelope_nothing_changes_and_outside_something_does()
    {
        // The exit index only calls positions whose envelope a price reaches: it must never skip a price
        // that would fire an exit or move a trailing extreme.
        Gen.Select(Ladder, Gen.Bool, Gen.Int[11, 300], Gen.Int[0, 25], Gen.Int[5_000, 15_000], Gen.Int[0, 2])
            .Sample((ladder, isLong, leverage10, trailing, price100, absolute) =>
            {
                var side = isLong ? AgentDesk.Domain.Common.Side.Long : AgentDesk.Domain.Common.Side.Short;
                var plan = ExitPlan.FromLadder(ladder) with
                {
                    Trailing = trailing > 0 ? new TrailingStop(trailing, 100m) : null,
                    StopLossPrice = absolute > 0 ? (isLong ? 70m : 130m) : null,
                };
                var position = new ExitSubject(side, 100m, leverage10 / 10m, 1000m, 6);
                var envelope = ExitEnvelope.ForOpen(plan, position);
                var price = price100 / 100m;
                var decision = ExitEvaluator.Evaluate(plan, position, price);
                var changed = decision.Fills.Count > 0 || decision.Plan.Trailing?.ExtremePrice != plan.Trailing?.ExtremePrice;
                return !changed || envelope.IsReachedBy(price);
            }, iter: 20_000);
    }

    [Fact]
    public void A_pending_order_is_looked_at_exactly_when_its_trigger_is_reached()
    {
        Gen.Select(Gen.Int[1_000, 20_000], Gen.Int[1_000, 20_000], Gen.Int[1_000, 20_000]).Sample((trigger, placed, price) =>
        {
            var order = TriggerOrder.Place(trigger / 100m, placed / 100m).Unwrap();
            return ExitEnvelope.ForPending(order).IsReachedBy(price / 100m) == order.IsReachedAt(price / 100m);
        }, iter: 5_000);
    }
}
