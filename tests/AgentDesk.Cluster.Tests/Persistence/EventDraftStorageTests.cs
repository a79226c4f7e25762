using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AgentDesk.Contracts.Events;
using AgentDesk.Silo.Persistence;

using static AgentDesk.Cluster.Tests.Persistence.StorageJson;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// Grain states keep the events their log has not confirmed (the outbox). The storage serializer works each draft out once
/// and copies it into later writes; what it stores must be exactly what plain System.Text.Json stores, so rows read the same
/// before and after, whatever came and went from the list in between.
/// </summary>
public sealed class EventDraftStorageTests
{
    public sealed class State
    {
        public string Name { get; set; } = "";
        public List<EventDraft> Events { get; set; } = [];
    }

    private static readonly JsonSerializerOptions Plain = Without<WrittenOnceJsonConverter<EventDraft>>();

    private static EventDraft Draft(int i) => new("Symphony", $"intent:{i}", "intent.executed", Guid.NewGuid(), $"0x{i:x40}", "NVDA",
        DateTimeOffset.UtcNow.AddSeconds(i), JsonSerializer.Serialize(new { nonce = i, note = $"say \"{i}\" ünïcode <&>", amountUsdc = 10.5m * i }));

    [Fact]
    public void A_state_is_stored_exactly_as_plain_json_as_drafts_come_and_go()
    {
        var state = new State { Name = "agent", Events = [Draft(0), Draft(1), Draft(2)] };
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));

        // The log confirmed the first two: the outbox swaps in a new list with what is left, and new drafts join it.
        state.Events = [state.Events[2], Draft(3)];
        Assert.Equal(JsonSerializer.Serialize(state, Plain), Stored(state));

        // A copy made with `with` (as the log makes to round the time) is written from its own values, not its original's.
        var copy = state.Events[0] with { At = state.Events[0].At.AddDays(1), Data = "{\"changed\":true}" };
        state.Events.Add(copy);
        var stored = Stored(state);
        Assert.Equal(JsonSerializer.Serialize(state, Plain), stored);
        Assert.Contains("changed", stored, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_written_by_plain_json_and_by_the_storage_serializer_read_back_the_same_drafts()
    {
        var state = new State { Name = "position", Events = [Draft(7), Draft(8)] };
        foreach (var row in new[] { JsonSerializer.SerializeToUtf8Bytes(state, Plain), Serializer.Serialize(state).ToArray() })
        {
            var read = Serializer.Deserialize<State>(new BinaryData(row));
            Assert.Equal(state.Events, read.Events); // every field, the JSON payload's quotes and accents included
            Assert.Equal(JsonSerializer.Serialize(read, Plain), Stored(read));
        }
    }

    /// <summary>How rows stored a draft's payload before it was stored as itself: as a JSON string.</summary>
    private static readonly JsonSerializerOptions PayloadAsString = new(Plain) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    [Fact]
    public void A_payload_is_stored_as_the_json_it_is_and_read_back_byte_for_byte()
    {
        var draft = Draft(3) with { Data = JsonSerializer.Serialize(new { note = "say \"3\" ünïcode <&> 1+1", inner = new { a = 1, b = "two" } }) };
        var state = new State { Name = "position", Events = [draft] };

        var stored = Stored(state);
        var payload = StoredPayload(stored);
        Assert.Equal(JsonValueKind.Object, payload.ValueKind);
        Assert.Equal(draft.Data, payload.GetRawText());
        Assert.True(stored.Length < JsonSerializer.Serialize(state, PayloadAsString).Length - 5 * draft.Data.Count(c => c == '"'));

        var read = Serializer.Deserialize<State>(Serializer.Serialize(state));
        Assert.Equal(draft, Assert.Single(read.Events)); // the payload's text exactly, escapes and all
    }

    [Fact]
    public void Rows_that_stored_payloads_as_strings_read_back_the_same_drafts()
    {
        var state = new State { Name = "agent", Events = [Draft(4), Draft(5)] };
        var row = JsonSerializer.SerializeToUtf8Bytes(state, PayloadAsString);
        Assert.Equal(JsonValueKind.String, JsonDocument.Parse(row).RootElement.GetProperty("events")[0].GetProperty("data").ValueKind);

        var read = Serializer.Deserialize<State>(new BinaryData(row));
        Assert.Equal(state.Events, read.Events);
        Assert.Equal(JsonSerializer.Serialize(read, Plain), Stored(read));
    }

    /// <summary>Only an object or an array is stored as itself: anything else would read back as another value, or is not JSON.</summary>
    [Theory]
    [InlineData("not json", JsonValueKind.String)]
    [InlineData("\"a json string\"", JsonValueKind.String)]
    [InlineData("42", JsonValueKind.String)]
    [InlineData("null", JsonValueKind.String)]
    [InlineData("", JsonValueKind.String)]
    [InlineData(" {\"padded\":1}", JsonValueKind.String)]
    [InlineData("{\"a\":1} {\"b\":2}", JsonValueKind.String)]
    [InlineData("{not: json}", JsonValueKind.String)]
    [InlineData("{\"trailing\":1,}", JsonValueKind.String)]
    [InlineData("{/* a comment */}", JsonValueKind.String)]
    [InlineData("[1, {\"spaced\" : true}]", JsonValueKind.Array)]
    [InlineData("{\"twice\":1.0,\"twice\":2,\"raw\":\"ü\\u00fc\"}", JsonValueKind.Object)]
    [InlineData("{}", JsonValueKind.Object)]
    public void Any_payload_reads_back_exactly_as_recorded(string data, JsonValueKind storedAs) => AssertStoredAsAndReadBack(data, storedAs);

    /// <summary>
    /// A row is read within a depth of 64 and a payload sits some levels down in it, so a payload stored as itself may
    /// nest 32 deep; a deeper one is stored as a string and still reads back (as itself, its row would never read again).
    /// </summary>
    [Theory]
    [InlineData(32, JsonValueKind.Object)]
    [InlineData(33, JsonValueKind.String)]
    [InlineData(200, JsonValueKind.String)]
    public void A_payload_nested_deeper_than_a_row_can_hold_is_stored_as_a_string(int depth, JsonValueKind storedAs) =>
        AssertStoredAsAndReadBack(string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth), storedAs);

    /// <summary>A draft with this payload is stored as a value of <paramref name="storedAs"/>'s kind and reads back as exactly <paramref name="data"/>.</summary>
    private static void AssertStoredAsAndReadBack(string data, JsonValueKind storedAs)
    {
        var state = new State { Events = [Draft(6) with { Data = data }] };
        Assert.Equal(storedAs, StoredPayload(Stored(state)).ValueKind);
        Assert.Equal(data, Serializer.Deserialize<State>(Serializer.Serialize(state)).Events.Single().Data);
    }

    /// <summary>The first draft's payload in a state's stored JSON.</summary>
    private static JsonElement StoredPayload(string stored) => JsonDocument.Parse(stored).RootElement.GetProperty("events")[0].GetProperty("data");

    [Fact]
    public void Each_draft_is_serialized_once_however_often_its_state_is_written()
    {
        // The draft's time goes through this converter, so its calls count how often a draft was worked out.
        var options = new JsonSerializerOptions(JsonGrainStorageSerializer.Options);
        options.Converters.Add(new CountingTimes());
        var state = new State { Events = [.. Enumerable.Range(0, 5).Select(Draft)] };
        CountingTimes.Writes = 0;

        for (var write = 0; write < 4; write++) JsonSerializer.SerializeToUtf8Bytes(state, options);
        Assert.Equal(5, CountingTimes.Writes);

        state.Events = [.. state.Events.Skip(2), Draft(5)];
        var stored = JsonSerializer.Serialize(state, options);
        Assert.Equal(6, CountingTimes.Writes);
        Assert.Equal(JsonSerializer.Serialize(state, Without<WrittenOnceJsonConverter<EventDraft>>(options)), stored);
    }

    private sealed class CountingTimes : JsonConverter<DateTimeOffset>
    {
        [ThreadStatic] private static int _writes;

        public static int Writes { get => _writes; set => _writes = value; }

        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
        {
            _writes++;
            writer.WriteStringValue(value);
        }
    }
}
