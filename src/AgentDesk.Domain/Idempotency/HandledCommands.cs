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
    private OrderedDictionary<string, TOutcome> _entries = new(StringComparer.Ordinal);

    /// <summary>Handled commands in the order they were first handled; change them through <see cref="Remember"/> and <see cref="Forget"/>.</summary>
    public OrderedDictionary<string, TOutcome> Entries
    {
        get => _entries;
        set
        {
            _entries = value;
            StoredForms.Clear();
        }
    }

    /// <summary>
    /// Each remembered outcome's serialized form, kept by the grain storage serializer and never stored itself. An
    /// outcome does not change once remembered, so a state write serializes only the outcomes remembered since the
    /// last one and copies the rest: an agent's 16 remembered answers are most of what each of its intents writes.
    /// A form names the outcome it was made from, and is used only for that same instance.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Dictionary<string, StoredForm> StoredForms { get; } = new(StringComparer.Ordinal);

    public int Count => Entries.Count;

    public bool TryGet(string key, out TOutcome outcome) => Entries.TryGetValue(key, out outcome!);

    public bool Contains(string key) => Entries.ContainsKey(key);

    /// <summary>Remembers <paramref name="key"/>'s outcome (replacing an earlier one) and forgets the oldest beyond <paramref name="capacity"/>.</summary>
    public void Remember(string key, TOutcome outcome, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _entries[key] = outcome;
        StoredForms.Remove(key);
        while (_entries.Count > capacity)
        {
            StoredForms.Remove(_entries.GetAt(0).Key);
            _entries.RemoveAt(0);
        }
    }

    public bool Forget(string key)
    {
        StoredForms.Remove(key);
        return _entries.Remove(key);
    }
}

/// <summary>An outcome's serialized form, with the outcome instance it was made from.</summary>
public readonly record struct StoredForm(object Outcome, ReadOnlyMemory<byte> Bytes);
