using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace AgentDesk.Gateway.Http;

/// <summary>
/// Follows a System.Text.Json error path ("$.orderOptions.stopLossPrice", "$.exits[1].exitBps") through a request
/// type's JSON contract, to tell a field that does not exist from a field given the wrong type, and to name the
/// type that was expected. The exception handler uses it instead of reading exception messages.
/// </summary>
public static class JsonFieldTypes
{
    public abstract record Lookup;

    /// <summary>The path names a member of the contract; <see cref="Expected"/> describes its type.</summary>
    public sealed record Known(string Field, string Expected) : Lookup;

    /// <summary>The path's last member is not part of the contract.</summary>
    public sealed record Unknown(string Field) : Lookup;

    public static Lookup? Find(Type root, string? path, JsonSerializerOptions options)
    {
        if (path is null || !path.StartsWith('$') || path.Length < 2) return null;
        var field = path[1..].TrimStart('.');
        var type = root;
        foreach (var segment in Segments(path[1..]))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            var info = options.GetTypeInfo(type);
            if (segment.StartsWith('['))
            {
                if (info.ElementType is not { } element) return null;
                type = element;
                continue;
            }
            if (info.Kind == JsonTypeInfoKind.Dictionary)
            {
                type = info.ElementType!;
                continue;
            }
            var property = info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
            if (property is null) return new Unknown(field);
            if (property.CustomConverter is IntegerOrStringConverter) return new Known(field, "an integer (a number or a decimal string)");
            type = property.PropertyType;
        }
        return new Known(field, Describe(Nullable.GetUnderlyingType(type) ?? type, options));
    }

    /// <summary>"orderOptions.stopLossPrice" → ["orderOptions", "stopLossPrice"]; "exits[1].exitBps" → ["exits", "[1]", "exitBps"].</summary>
    private static IEnumerable<string> Segments(string path)
    {
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.') i++;
            if (i >= path.Length) yield break;
            if (path[i] == '[')
            {
                var close = path.IndexOf(']', i);
                if (close < 0) yield break;
                var inner = path[(i + 1)..close];
                // ['odd name'] is a property; [3] is an index.
                yield return inner.StartsWith('\'') ? inner.Trim('\'') : "[" + inner + "]";
                i = close + 1;
                continue;
            }
            var end = path.IndexOfAny(['.', '['], i);
            if (end < 0) end = path.Length;
            yield return path[i..end];
            i = end;
        }
    }

    private static string Describe(Type type, JsonSerializerOptions options)
    {
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(Guid)) return "a UUID string";
        if (type.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(type));
        if (type == typeof(int) || type == typeof(long) || type == typeof(short)) return "an integer";
        if (type == typeof(decimal) || type == typeof(double)) return "a number";
        return options.GetTypeInfo(type).Kind switch
        {
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Object => "an object",
            _ => type.Name,
        };
    }
}
