using System.Runtime.CompilerServices;
using System.Text.Json;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// The JSON of values that never change once made, worked out once per instance and copied into every later write, for
/// the storage converters whose values sit in a grain's state through many writes (remembered outcomes, pending events).
/// The bytes are kept in a weak table beside their instance, so they go when it goes; the table matches by reference, so
/// a copy made with <c>with</c> is written from its own values. It is safe from any thread, which matters because the
/// ADO.NET provider serialises on a pool thread while the grain may already be swapping in new values.
/// </summary>
internal sealed class SerializedOnce<T> where T : class
{
    private readonly ConditionalWeakTable<T, byte[]> _forms = new();
    private readonly ConditionalWeakTable<T, byte[]>.CreateValueCallback _serialize;

    /// <param name="options">What the value is written with: the same bytes System.Text.Json would write in its place.</param>
    public SerializedOnce(JsonSerializerOptions options) => _serialize = value => JsonSerializer.SerializeToUtf8Bytes(value, options);

    public void Write(Utf8JsonWriter writer, T value) => writer.WriteRawValue(_forms.GetValue(value, _serialize), skipInputValidation: true);
}
