using System.Text.Json;
using System.Text.Json.Serialization;
using AgentDesk.Contracts.Common;
using AgentDesk.Contracts.Intents;
using AgentDesk.Contracts.Positions;
using AgentDesk.Domain.Exits;
using AgentDesk.Domain.Intents;
using AgentDesk.Grains.Agents;
using AgentDesk.Grains.Positions;
using AgentDesk.Silo.Persistence;

using static AgentDesk.Cluster.Tests.Persistence.StorageJson;

namespace AgentDesk.Cluster.Tests.Persistence;

/// <summary>
/// A position answers each command with a snapshot of itself, remembers it, and on one silo the agent that sent the intent
/// remembers the very same snapshot inside its own answer. The storage serializer works each snapshot out once for both;
/// what it stores must still be exactly what plain System.Text.Json stores, so rows read the same before and after.
/// </summary>
public sealed class PositionSnapshotStorageTests
{
    private static readonly JsonSerializerOptions Plain =
        Without<HandledCommandsJsonConverter>(Without<WrittenOnceJsonConverter<PositionSnapshot>>(Without<WrittenOnceJsonConverter<IntentAuthorization>>()));

    private static PositionSnapshot Snapshot(int i) => JsonSerializer.Deserialize<PositionSnapshot>($$"""
        {"positionId":"p-{{i}}","key":"pos:a:0x0c:NVDA","agentId":"849976e3-61a4-47ce-8e0c-a487d9460c7d","account":"0x0c","symbol":"NVDA",
         "status":"Open","side":"Long","size":{{69.5m + i}},"originalSize":69.5,"entryPrice":130.065,"leverage":1,"marginUsdc":9030,
         "realizedPnlUsdc":0,"pendingExits":[{"triggerType":"TakeProfit","triggerBps":1000,"exitBps":5000},{"triggerType":"StopLoss","triggerBps":-1000,"exitBps":10000}],
         "exits":[],"openTransaction":{"id":"paper-{{i}}","hash":"0x14cd","explorerUrl":"paper://tx/0x14cd","chainId":42161,"simulated":true,"at":"2026-11-28T21:15:44.1890347+00:00"},
         "createdAt":"2026-11-28T21:15:44.1888994+00:00","updatedAt":"2026-11-28T21:18:05.48476+00:00","organization":"AgentDesk","fees":[],"lastTickSequence":{{i}}}
        """, JsonGrainStorageSerializer.Options)!;

    private static HandledIntent Answer(long nonce, PositionSnapshot snapshot) =>
        new($"0xsig{nonce}", Result<IntentExecution>.Ok(new IntentExecution(nonce, snapshot, snapshot.OpenTransaction, 0m)));

    [Fact]
    public void Positions_and_agents_are_stored_exactly_as_plain_json_wherever_their_snapshots_sit()
    {
        // The signed intent behind the position stays in its state from the open on; the agent holds one in flight.
        var signed = new IntentAuthorization(Guid.NewGuid(), new IntentRequest(IntentKind.OpenPosition, "NVDA", 100m, 0m, 0m, 0m, 100,
            [new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)], 1_795_904_137, 0, "0x3085\"d1"), "0x0c", new VaultToken("NVDA", "0x03f3", 18), "0x1979");
        var position = new PositionGrainState { Current = new PositionLifecycle { PositionId = "p", Authorization = signed } };
        var agent = new AgentState { Registered = true, Name = "alpha", InFlight = signed };
        for (var i = 0; i < 4; i++)
        {
            var snapshot = Snapshot(i);
            position.Changes.Remember($"intent:{i}", snapshot, capacity: 3);
            position.Reductions.Remember($"intent:{i + 100}", new CloseOutcome(false, null, snapshot, 1.5m, 131m, snapshot.OpenTransaction, $"swap-{i}"), capacity: 3);
            position.BatchOpens.Remember($"batch:{i}", OpenReceipt.Of(snapshot), capacity: 3);
            position.CloseReceipts.Remember($"batch:c{i}", new CloseReceipt(false, null, snapshot.PositionId, PositionStatus.Closed, 1.5m, 131m, snapshot.OpenTransaction, $"swap-{i}"), capacity: 3);
            agent.Intents.Remember($"{i}", Answer(i, snapshot), capacity: 3);
            Assert.Equal(JsonSerializer.Serialize(position, Plain), Stored(position));
            Assert.Equal(JsonSerializer.Serialize(agent, Plain), Stored(agent));
        }

        // A snapshot made with `with` is written from its own values, never as the form kept for its original.
        var moved = position.Changes.Entries["intent:3"] with { Size = 1m };
        position.Changes.Remember("intent:4", moved, capacity: 3);
        agent.Intents.Remember("4", Answer(4, moved), capacity: 3);
        Assert.Equal(JsonSerializer.Serialize(position, Plain), Stored(position));
        Assert.Equal(JsonSerializer.Serialize(agent, Plain), Stored(agent));
        Assert.Equal(1m, Serializer.Deserialize<PositionGrainState>(Serializer.Serialize(position)).Changes.Entries["intent:4"].Size);
    }

    [Fact]
    public void A_snapshot_the_position_stored_is_not_worked_out_again_inside_the_agents_answer()
    {
        var options = CountingSnapshots();
        var snapshot = Snapshot(1);
        var position = new PositionGrainState();
        position.Changes.Remember("intent:1", snapshot, capacity: 8);

        JsonSerializer.SerializeToUtf8Bytes(position, options);
        Assert.Equal(2, CountingRules.Writes);
        var agent = new AgentState { Registered = true };
        agent.Intents.Remember("1", Answer(1, snapshot), capacity: 16);
        for (var write = 0; write < 3; write++)
        {
            JsonSerializer.SerializeToUtf8Bytes(agent, options);
            JsonSerializer.SerializeToUtf8Bytes(position, options);
        }
        Assert.Equal(2, CountingRules.Writes);

        // Another snapshot instance with the same values is its own value: worked out once more.
        agent.Intents.Remember("2", Answer(2, snapshot with { }), capacity: 16);
        JsonSerializer.SerializeToUtf8Bytes(agent, options);
        Assert.Equal(4, CountingRules.Writes);
    }

    [Fact]
    public void A_snapshot_met_inside_a_remembered_reduce_is_copied_when_kept_but_not_kept_a_second_time()
    {
        var options = CountingSnapshots();
        var snapshot = Snapshot(1);
        var position = new PositionGrainState();
        position.Reductions.Remember("intent:2", new CloseOutcome(false, null, snapshot, 1m, 131m, null, "swap"), capacity: 8);

        // The reduce keeps its own bytes, the snapshot's inside them; the snapshot alone is not kept besides.
        JsonSerializer.SerializeToUtf8Bytes(position, options);
        JsonSerializer.SerializeToUtf8Bytes(position, options);
        Assert.Equal(2, CountingRules.Writes);
        var agent = new AgentState { Registered = true };
        agent.Intents.Remember("1", Answer(1, snapshot), capacity: 16);
        JsonSerializer.SerializeToUtf8Bytes(agent, options);
        Assert.Equal(4, CountingRules.Writes);

        // Once the position remembers the snapshot as a change, it is kept, and an answer holding it copies it.
        position.Changes.Remember("intent:1", snapshot, capacity: 8);
        JsonSerializer.SerializeToUtf8Bytes(position, options);
        agent.Intents.Remember("2", Answer(2, snapshot), capacity: 16);
        JsonSerializer.SerializeToUtf8Bytes(agent, options);
        Assert.Equal(6, CountingRules.Writes);
    }

    [Fact]
    public void Consecutive_writes_on_one_thread_each_store_exactly_their_own_state_whatever_came_before()
    {
        // The serializer keeps a writer per thread: nothing of an earlier state, larger or failed, may leak into the next.
        static PositionGrainState WithChanges(int count)
        {
            var state = new PositionGrainState();
            for (var i = 0; i < count; i++) state.Changes.Remember($"intent:{i}", Snapshot(i), capacity: count);
            return state;
        }
        var small = new PositionGrainState { LastTickSequence = 7 };
        var kept = WithChanges(150);   // over 64 KB: the thread's buffer grows, and is kept
        var dropped = WithChanges(400); // over 256 KB: the thread's buffer is let go after it
        Assert.InRange(Serializer.Serialize(kept).ToMemory().Length, 64 * 1024, 200 * 1024);
        Assert.True(Serializer.Serialize(dropped).ToMemory().Length > 256 * 1024);
        foreach (var state in new[] { small, kept, small, dropped, small, kept })
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(state, Plain), Serializer.Serialize(state).ToArray());

        Assert.Throws<InvalidOperationException>(() => Serializer.Serialize(new Failing { Before = "written", Value = "x" }));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(small, Plain), Serializer.Serialize(small).ToArray());
    }

    public sealed class Failing
    {
        public string Before { get; set; } = "";

        [JsonConverter(typeof(FailingConverter))]
        public string Value { get; set; } = "";
    }

    private sealed class FailingConverter : JsonConverter<string>
    {
        public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WriteString("half", "written");
            throw new InvalidOperationException("a write that fails part-way");
        }
    }

    /// <summary>
    /// The storage options, counting from zero how often an exit rule is written: exit rules appear in these states only
    /// inside snapshots, so the count says how often a snapshot was worked out.
    /// </summary>
    private static JsonSerializerOptions CountingSnapshots()
    {
        var options = new JsonSerializerOptions(JsonGrainStorageSerializer.Options);
        options.Converters.Add(new CountingRules());
        CountingRules.Writes = 0;
        return options;
    }

    private sealed class CountingRules : JsonConverter<ExitRule>
    {
        [ThreadStatic] private static int _writes;

        public static int Writes { get => _writes; set => _writes = value; }

        public override ExitRule Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

        public override void Write(Utf8JsonWriter writer, ExitRule value, JsonSerializerOptions options)
        {
            _writes++;
            writer.WriteStartObject();
            writer.WriteString("triggerType", value.TriggerType.ToString());
            writer.WriteNumber("triggerBps", value.TriggerBps);
            writer.WriteNumber("exitBps", value.ExitBps);
            writer.WriteEndObject();
        }
    }
}
