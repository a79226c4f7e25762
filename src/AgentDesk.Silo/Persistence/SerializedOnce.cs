using System.Runtime.CompilerServices;
using System.Text.Json;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// The JSON of values that never change once made, worked out once per instance and copied into every later write, for
/// the storage converters whose values sit in a grain's state through many writes or in more than one state (remembered
/// outcomes, pending events, signed intents). The bytes are kept in a weak table beside their
/// instance, so they go when it goes; the table matches by reference, so a copy made with <c>with</c> is written from its
/// own values. It is safe from any thread, which matters because the ADO.NET provider serialises on a pool thread while
/// the grain may already be swapping in new values.
/// </summary>
/// <remarks>
/// A value met while another value's bytes are being worked out (a signed intent inside a remembered answer) is copied from
/// its table if it is there, but not added: the outer value's bytes already hold it, and keeping it too would hold it twice.
/// </remarks>
/// <param name="options">What the value is written with: the same bytes System.Text.Json would write in its place.</param>
internal sealed class SerializedOnce<T>(JsonSerializerOptions options) where T : class
{
    private readonly ConditionalWeakTable<T, byte[]> _forms = new();
    private readonly ConditionalWeakTable<T, byte[]>.CreateValueCallback _serialize = value => JsonSerializer.SerializeToUtf8Bytes(value, options);

    public void Write(Utf8JsonWriter writer, T value)
    {
        if (_forms.TryGetValue(value, out var kept))
        {
            writer.WriteRawValue(kept, skipInputValidation: true);
            return;
        }
        if (WorkingOut.Depth > 0)
        {
            JsonSerializer.Serialize(writer, value, options);
            return;
        }
        WorkingOut.Depth++;
        try
        {
            kept = _forms.GetValue(value, _serialize);
        }
        finally
        {
            WorkingOut.Depth--;
        }
        writer.WriteRawValue(kept, skipInputValidation: true);
    }
}

/// <summary>How many kept values this thread is working out, one inside another, whatever their types (a generic class's static would be one per type).</summary>
internal static class WorkingOut
{
    [ThreadStatic] private static int t_depth;

    public static int Depth { get => t_depth; set => t_depth = value; }
}
