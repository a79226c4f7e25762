namespace AgentDesk.Domain.Idempotency;

/// <summary>
/// The bounded memory of commands a grain has already carried out, keyed by the command's idempotency key
/// (a close id, a deposit id, a batch id, a settlement id). A repeat of a remembered command returns what the
/// first one answered instead of acting twice. When the bound is reached the OLDEST entry is forgotten:
/// entries keep insertion order (a plain <see cref="Dictionary{TKey,TValue}"/> reuses freed slots, so
/// evicting its "first" key can evict the newest). Stored as a JSON object in insertion order.
/// </summary>
/// <remarks>
/// The bound is the caller's (a constant of each grain), not stored, so changing it in code applies to state
/// already stored. A key forgotten after <c>capacity</c> newer commands is treated as new: callers size the
/// bound so that a retry cannot plausibly arrive that late (see docs/architecture.md).
/// </remarks>
public sealed class HandledCommands<TOutcome>
{
    /// <summary>Handled commands in the order they were first handled.</summary>
    public OrderedDictionary<string, TOutcome> Entries { get; set; } = new(StringComparer.Ordinal);

    public int Count => Entries.Count;

    public bool TryGet(string key, out TOutcome outcome) => Entries.TryGetValue(key, out outcome!);

    public bool Contains(string key) => Entries.ContainsKey(key);

    /// <summary>Remembers <paramref name="key"/>'s outcome (replacing an earlier one) and forgets the oldest beyond <paramref name="capacity"/>.</summary>
    public void Remember(string key, TOutcome outcome, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Entries[key] = outcome;
        while (Entries.Count > capacity) Entries.RemoveAt(0);
    }

    public bool Forget(string key) => Entries.Remove(key);
}
