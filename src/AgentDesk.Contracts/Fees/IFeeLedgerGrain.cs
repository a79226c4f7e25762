namespace AgentDesk.Contracts.Fees;

/// <summary>Fees credited to one fee address (key <c>fees:{address}</c>), by partner.</summary>
[Alias("agentdesk.fee-ledger")]
public interface IFeeLedgerGrain : IGrainWithStringKey
{
    /// <summary>Credits fees; repeating a <paramref name="creditId"/> credits nothing more.</summary>
    [Alias("credit")]
    Task CreditAsync(string creditId, IReadOnlyList<Common.FeeChargeMessage> charges);

    [Alias("get")]
    Task<FeeLedgerView> GetAsync();
}

[GenerateSerializer, Immutable, Alias("agentdesk.fee-ledger-view")]
public sealed record FeeLedgerView(
    [property: Id(0)] string FeeAddress,
    [property: Id(1)] decimal TotalUsdc,
    [property: Id(2)] IReadOnlyDictionary<string, decimal> ByPartner,
    [property: Id(3)] int Credits);
