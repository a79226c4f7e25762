using System.Data.Common;
using AgentDesk.Contracts.Common;
using Microsoft.Extensions.Logging;

namespace AgentDesk.Grains.Infrastructure;

/// <summary>
/// A grain call of ours that ends in an exception deactivates the grain, so the next call reloads its state from
/// storage. Rules answer with rejections, never exceptions, so an exception means the call broke off part-way (a write
/// that failed while the database restarted, a call to a silo that died): the activation's memory may hold changes that
/// were never stored, or lost a write race to another activation, and must not serve another request.
/// A database failure leaves as a <see cref="StorageUnavailableException"/>: the driver's exception cannot cross the
/// grain boundary, and callers must be able to tell "retry" from "bug".
/// </summary>
public sealed class DiscardStateOnFailure(ILogger<DiscardStateOnFailure> logger) : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (context.TargetContext.GrainInstance?.GetType() is { } type
            && type.Namespace?.StartsWith("AgentDesk.Grains", StringComparison.Ordinal) == true
            && !type.IsDefined(typeof(RecoversFromFailuresAttribute), inherit: false))
        {
            // The reason carries no exception on purpose: Orleans rejects the requests queued behind a call on an activation
            // that deactivates with one, each with that call's exception, and forwards them to a fresh activation (which
            // reloads the state) otherwise. Those requests did nothing wrong, and their callers would take another call's
            // failure for their own. So the exception is logged here, where the reason would have carried it.
            context.TargetContext.Deactivate(new DeactivationReason(DeactivationReasonCode.ApplicationError,
                $"A call to {context.InterfaceMethod.Name} failed part-way ({e.GetType().Name}); the state is reloaded from storage."));
            if (FromDatabase(e) is not { } database)
            {
                logger.LogWarning(e, "{Grain}: {Method} failed part-way; the grain reloads its state", context.TargetId, context.InterfaceMethod.Name);
                throw;
            }
            logger.LogWarning(database, "{Grain}: the database failed during {Method}; the grain reloads its state", context.TargetId, context.InterfaceMethod.Name);
            throw new StorageUnavailableException($"The database failed during {context.InterfaceMethod.Name}: {database.Message}");
        }
    }

    /// <summary>The database's own exception behind <paramref name="e"/>, if it came from the database.</summary>
    internal static DbException? FromDatabase(Exception e) => e switch
    {
        DbException database => database,
        { InnerException: { } inner } => FromDatabase(inner),
        _ => null,
    };
}

/// <summary>
/// A grain that recovers from a failed call itself and must stay active through it: the organisations' event logs, which
/// serve interleaved readers and long polls while a failed flush makes them reload their numbering from the store.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class RecoversFromFailuresAttribute : Attribute;
