using System.Collections.Concurrent;
using AgentDesk.Contracts.Common;
using AgentDesk.Domain.Common;
using AgentDesk.Venues;
using AgentDesk.Venues.Paper;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace AgentDesk.Cluster.Tests.Faults;

/// <summary>
/// The paper venue as if its orders left the cluster, as a chain's do: a position stores each order before sending it,
/// and after a lost answer asks the venue what became of it. This venue remembers what it carried out, by order id, to
/// answer those questions and to carry each order out once; it loses answers as <see cref="FaultPlan"/> says. A test-only
/// stand-in for a chain whose reply to a mined transaction is lost (the EVM venue's own recovery is tested on anvil).
/// </summary>
public sealed class OutsideVenue(PaperVenue paper) : IExecutionVenue
{
    private readonly ConcurrentDictionary<string, Outcome<VenueFill>> _carriedOut = new();

    public bool SendsOutsideCluster => true;

    public async Task<Outcome<VenueFill>> OpenAsync(OpenOrder order, CancellationToken cancellationToken = default) =>
        _carriedOut.TryGetValue(order.OrderId, out var done) ? done : _carriedOut.GetOrAdd(order.OrderId, await paper.OpenAsync(order, cancellationToken));

    public async Task<Outcome<VenueFill>> CloseAsync(CloseOrder order, CancellationToken cancellationToken = default)
    {
        var faults = FaultPlan.Find(GrainKeys.Position(order.AgentId, order.Account, order.Symbol));
        if (_carriedOut.TryGetValue(order.OrderId, out var done))
        {
            faults?.VenueCloseResent();
            return done;
        }
        if (faults?.RefuseVenueClose() == true)
            return _carriedOut.GetOrAdd(order.OrderId, new Rejection(Errors.InsufficientFunds, "Injected: the venue refused the sale."));
        var filled = _carriedOut.GetOrAdd(order.OrderId, await paper.CloseAsync(order, cancellationToken));
        if (faults is not null)
        {
            faults.VenueClosed();
            if (faults.LoseVenueCloseAnswer()) throw new IOException("Injected: the venue carried the sale out, and its answer was lost.");
        }
        return filled;
    }

    public Task<Outcome<VenueFill>> UpdateLadderAsync(LadderOrder order, CancellationToken cancellationToken = default) =>
        paper.UpdateLadderAsync(order, cancellationToken);

    public Task<Outcome<VenueFill>?> ReconcileAsync(VenueOrder order, CancellationToken cancellationToken = default) =>
        Task.FromResult(_carriedOut.TryGetValue(order.OrderId, out var done) ? done : (Outcome<VenueFill>?)null);

    public Task<Rejection?> CheckAddressAsync(string address, int? tokenDecimals, CancellationToken cancellationToken = default) =>
        paper.CheckAddressAsync(address, tokenDecimals, cancellationToken);

    public Task<Rejection?> CheckVaultClaimAsync(string vaultAddress, string organization, string vaultId, string? adminSignature,
        CancellationToken cancellationToken = default) => paper.CheckVaultClaimAsync(vaultAddress, organization, vaultId, adminSignature, cancellationToken);
}

/// <summary>The faulty cluster with every trade (the paper venue's) going through <see cref="OutsideVenue"/>.</summary>
public sealed class OutsideVenueClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;
    public IClusterClient Client => Cluster.Client;

    // Registered before the product's venues, which are added only where none is registered yet.
    public async Task InitializeAsync() => Cluster = await FaultyClusterFixture.StartAsync(services =>
        services.AddKeyedSingleton<IExecutionVenue>(VenueKind.Paper, (provider, _) => new OutsideVenue(ActivatorUtilities.CreateInstance<PaperVenue>(provider))));

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class OutsideVenueClusterCollection : ICollectionFixture<OutsideVenueClusterFixture>
{
    public const string Name = "faulty cluster, orders leaving it";
}
