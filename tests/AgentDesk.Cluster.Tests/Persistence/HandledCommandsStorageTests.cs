using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Domain.Idempotency;
using AgentDesk.Silo.Persistence;

using static AgentDesk.Cluster.Tests.Persistence.StorageJson;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// Grain states keep their last commands' outcomes (<see cref="HandledCommands{TOutcome}"/>); the storage serializer writes
/// each outcome once and copies it into later writes. What it stores must be exactly what plain System.Text.Json stores,
/// whatever was remembered, replaced or forgotten in between, so rows read the same before and after.
/// </summary>
public sealed class HandledCommandsStorageTests
{
    public sealed record Outcome(string Id, decimal AmountUsdc, List<string> Notes);

    public sealed class State
    {
        public string Name { get; set; } = "";
        public HandledCommands<Outcome> Handled { get; set; } = new();
    }

    private static readonly JsonSerializerOptions Plain = Without<HandledCommandsJsonConverter>();

    private static Outcome NewOutcome(int i) => new($"close-{i}", 10.5m * i, [$"note \"{i}\"", "ünïcode"]);

    [Fact]
    public void A_state_is_stored_exactly_as_plain_json_after_outcomes_are_remembered_replaced_and_forgotten()
    {
        var state = new State { Name = "position" };
        for (var i = 0; i < 3; i++) state.Handled.Remember($"k{i}", NewOutcome(i), capacity: 3);
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));

        state.Handled.Remember("k1", NewOutcome(41), capacity: 3); // replaced
        state.Handled.Remember("k3", NewOutcome(3), capacity: 3);  // evicts k0
        Assert.True(state.Handled.Forget("k2"));
        state.Handled.Remember("k2", NewOutcome(42), capacity: 3); // forgotten, then the same key again
        var expected = JsonSerializer.Serialize(state, Plain);
        Assert.Equal(expected, Stored(state));
        Assert.Contains("\"close-41\"", expected, StringComparison.Ordinal);
        Assert.DoesNotContain("\"close-0\"", expected, StringComparison.Ordinal);
        Assert.Equal(["k1", "k3", "k2"], state.Handled.Entries.Keys);

        // Even an outcome swapped in past Remember is written as itself, never as the form kept for its predecessor.
        state.Handled.Entries["k3"] = NewOutcome(33);
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));
        Assert.Contains("\"close-33\"", Stored(state), StringComparison.Ordinal);
    }

    public sealed class FlagsAndAmounts
    {
        public HandledCommands<bool> Settled { get; set; } = new();
        public HandledCommands<decimal> Deposits { get; set; } = new();
    }

    [Fact]
    public void Flags_and_amounts_are_stored_as_plain_json_too()
    {
        var state = new FlagsAndAmounts();
        state.Settled.Remember("s1", true, capacity: 4);
        state.Deposits.Remember("d1", 12.500001m, capacity: 4);
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));
        state.Deposits.Remember("d1", 7m, capacity: 4);
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));
        Assert.Equal(7m, Serializer.Deserialize<FlagsAndAmounts>(Serializer.Serialize(state)).Deposits.Entries["d1"]);
    }

    [Fact]
    public void Rows_written_by_plain_json_and_by_the_storage_serializer_read_back_the_same_outcomes_in_order()
    {
        var state = new State { Name = "agent" };
        for (var i = 0; i < 5; i++) state.Handled.Remember($"k{i}", NewOutcome(i), capacity: 4);

        foreach (var row in new[] { JsonSerializer.SerializeToUtf8Bytes(state, Plain), Serializer.Serialize(state).ToArray() })
        {
            var read = Serializer.Deserialize<State>(new BinaryData(row));
            Assert.Equal("agent", read.Name);
            Assert.Equal(["k1", "k2", "k3", "k4"], read.Handled.Entries.Keys);
            Assert.Equal(NewOutcome(3).AmountUsdc, read.Handled.Entries["k3"].AmountUsdc);
            Assert.Equal(NewOutcome(3).Notes, read.Handled.Entries["k3"].Notes);
            // What was read is stored again unchanged, and a new outcome after it lands in order.
            Assert.Equal(JsonSerializer.Serialize(read, Plain), Stored(read));
            read.Handled.Remember("k5", NewOutcome(5), capacity: 4);
            Assert.Equal(JsonSerializer.Serialize(read, Plain), Stored(read));
        }
    }

    [Fact]
    public void Each_outcome_is_serialized_once_however_often_its_state_is_written()
    {
        var state = new CountedState();
        for (var i = 0; i < 16; i++) state.Handled.Remember($"k{i}", new CountedOutcome(i), capacity: 16);
        CountingConverter.Writes = 0;

        for (var write = 0; write < 5; write++) Serializer.Serialize(state);
        Assert.Equal(16, CountingConverter.Writes);

        state.Handled.Remember("k16", new CountedOutcome(16), capacity: 16);
        Serializer.Serialize(state);
        Assert.Equal(17, CountingConverter.Writes);
    }

    public sealed class CountedState
    {
        public HandledCommands<CountedOutcome> Handled { get; set; } = new();
    }

    [JsonConverter(typeof(CountingConverter))]
    public sealed record CountedOutcome(int Value);

    public sealed class CountingConverter : JsonConverter<CountedOutcome>
    {
        [ThreadStatic] private static int _writes;

        public static int Writes { get => _writes; set => _writes = value; }

        public override CountedOutcome Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => new(reader.GetInt32());

        public override void Write(Utf8JsonWriter writer, CountedOutcome value, JsonSerializerOptions options)
        {
            _writes++;
            writer.WriteNumberValue(value.Value);
        }
    }
}
