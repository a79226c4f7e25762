using AgentDesk.Domain.Agents;

namespace AgentDesk.Contracts.Fees;

/// <summary>Fees credited to one fee address within one organisation (key <c>fees:{organisation}:{address}</c>), by partner.</summary>
[Alias("agentdesk.fee-ledger")]
public interface IFeeLedgerGrain : IGrainWithStringKey
{
    /// <summary>Credits fees; repeating a <paramref name="creditId"/> credits nothing more.</summary>
    [Alias("credit")]
    Task CreditAsync(string creditId, IReadOnlyList<FeeCharge> charges);

    /// <summary>
    /// Takes back fees credited for orders that never filled: a batch-close's for every order it cancelled
    /// (<paramref name="byBatch"/>, remembered as long as the batches' credits), or one order's that the venue refused when it
    /// triggered. Repeating a <paramref name="refundId"/> takes nothing more. A refund may arrive before its batch's credit
    /// (an order refused as soon as it triggered), and the partner's total is below zero until then.
    /// </summary>
    [Alias("refund")]
    Task RefundAsync(string refundId, IReadOnlyList<FeeCharge> charges, bool byBatch);

    [Alias("get")]
    Task<FeeLedgerView> GetAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.fee-ledger-view")]
public sealed record FeeLedgerView(
    [property: Id(0)] string FeeAddress,
    [property: Id(1)] decimal TotalUsdc,
    [property: Id(2)] IReadOnlyDictionary<string, decimal> ByPartner,
    [property: Id(3)] int Credits);
