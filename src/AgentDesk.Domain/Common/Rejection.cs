using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentDesk.Domain.Common;

/// <summary>
/// Why the domain refused something: a code from the <see cref="Errors"/> catalogue (the problem-details
/// <c>code</c> over HTTP), a sentence for a person, and optional facts such as the expected nonce or the
/// headroom left under a limit.
/// </summary>
public sealed record Rejection(ErrorCode Code, string Message, IReadOnlyDictionary<string, string>? Details = null)
{
    public Rejection With(string key, object value)
    {
        var details = new Dictionary<string, string>(Details ?? new Dictionary<string, string>())
        {
            // Decimals are written without trailing zeros so that "500.00" and "500" read the same.
            [key] = value is decimal amount
                ? (amount / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture)
                : Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
        return this with { Details = details };
    }

    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>Error codes travel (and are stored) as their code string, and are read back through the catalogue.</summary>
public sealed class ErrorCodeJsonConverter : JsonConverter<ErrorCode>
{
    public override ErrorCode Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Errors.Find(reader.GetString() ?? throw new JsonException("An error code must be a string."));

    public override void Write(Utf8JsonWriter writer, ErrorCode value, JsonSerializerOptions options) => writer.WriteStringValue(value.Code);
}

/// <summary>Either a value or the rejection that prevented it. Errors are values at the domain edge.</summary>
public readonly record struct Outcome<T>
{
    private Outcome(T? value, Rejection? rejection)
    {
        Value = value;
        Rejection = rejection;
    }

    public T? Value { get; }
    public Rejection? Rejection { get; }
    public bool IsSuccess => Rejection is null;

    public T Unwrap() => IsSuccess ? Value! : throw new InvalidOperationException($"Outcome was rejected: {Rejection}");

    public static Outcome<T> Ok(T value) => new(value, null);
    public static Outcome<T> Fail(Rejection rejection) => new(default, rejection);

    public static implicit operator Outcome<T>(Rejection rejection) => Fail(rejection);
    public static implicit operator Outcome<T>(T value) => Ok(value);
}
