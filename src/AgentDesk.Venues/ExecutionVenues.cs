using AgentDesk.Domain.Agents;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentDesk.Venues;

/// <summary>The venues a cluster can execute on.</summary>
public enum VenueKind
{
    /// <summary>Simulated fills at the feed price (<see cref="Paper.PaperVenue"/>).</summary>
    Paper,

    /// <summary>Transactions on an EVM chain through the TradeRouter (<see cref="Evm.EvmVenue"/>).</summary>
    Evm,
}

/// <summary>Section <c>AgentDesk:Venue</c>.</summary>
public sealed class VenueOptions
{
    public const string Section = "AgentDesk:Venue";

    /// <summary>Where spot trades execute: vault intents and SWAP agents' batch trades. PERPETUAL agents always trade on paper.</summary>
    public VenueKind Kind { get; set; } = VenueKind.Paper;
}

/// <summary>
/// Which venue executes which trade (docs/venues.md). PERPETUAL agents' batch trades are leveraged longs and shorts that no
/// spot venue can fill, so they stay on the paper venue; signed vault intents and SWAP agents' batch trades are spot
/// trades and go to the configured <see cref="VenueOptions.Kind"/>. A position remembers the venue it opened on, so its
/// exits and closes go to the same place even if the setting changes later.
/// </summary>
public sealed class ExecutionVenues(IOptions<VenueOptions> options, IServiceProvider services)
{
    /// <summary>The venue spot trades go to.</summary>
    public VenueKind Spot => options.Value.Kind;

    public IExecutionVenue Get(VenueKind kind) => services.GetRequiredKeyedService<IExecutionVenue>(kind);

    /// <summary>The venue a new trade opens on: spot for signed intents and SWAP agents, paper for PERPETUAL agents.</summary>
    public VenueKind Route(AgentType agentType, bool signedIntent) =>
        signedIntent || agentType == AgentType.Swap ? Spot : VenueKind.Paper;
}
