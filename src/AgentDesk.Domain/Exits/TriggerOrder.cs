using AgentDesk.Domain.Common;

namespace AgentDesk.Domain.Exits;

/// <summary>Which way the price must go to reach a trigger, fixed by where it stood when the order was placed.</summary>
public enum TriggerDirection
{
    /// <summary>Placed with the price above the trigger: fills once the price is at or below it.</summary>
    FillsAtOrBelow,
    /// <summary>Placed with the price below the trigger: fills once the price is at or above it.</summary>
    FillsAtOrAbove,
}

/// <summary>A pending order that opens the position when the price reaches <see cref="TriggerPrice"/>.</summary>
public sealed record TriggerOrder(decimal TriggerPrice, TriggerDirection Direction)
{
    /// <summary>
    /// Places an order against the price at placement. A price already at the trigger counts as reached
    /// from above, so such an order fills on the next evaluation.
    /// </summary>
    public static Outcome<TriggerOrder> Place(decimal triggerPrice, decimal priceAtPlacement)
    {
        if (triggerPrice <= 0)
            return new Rejection(Errors.InvalidTriggerPrice, $"triggerPrice must be positive; got {triggerPrice}.");
        if (priceAtPlacement <= 0)
            return new Rejection(Errors.NoPrice, "A trigger order needs a current price to know which side it was placed on.");
        var direction = priceAtPlacement >= triggerPrice ? TriggerDirection.FillsAtOrBelow : TriggerDirection.FillsAtOrAbove;
        return new TriggerOrder(triggerPrice, direction);
    }

    public bool IsReachedAt(decimal price) => Direction == TriggerDirection.FillsAtOrBelow
        ? price <= TriggerPrice
        : price >= TriggerPrice;
}
