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
/// A position answers each intent with a receipt and remembers it; the agent that sent the intent remembers it inside its
/// own answer. The storage serializer works each remembered answer out once per grain and copies it into later writes;
/// what it stores must still be exactly what plain System.Text.Json stores, so rows read the same before and after.
/// </summary>
public sealed class IntentReceiptStorageTests
{
    private static readonly JsonSerializerOptions Plain = Without<HandledCommandsJsonConverter>(Without<WrittenOnceJsonConverter<IntentAuthorization>>());

    // Ids, keys, hashes and signatures of the lengths the product makes them.
    private const string PositionId = "0b6f4f0e-54d4-5c3b-9a51-5d1f0e2f6a7c";
    private const string Hash = "0x8f3c1a6e2b7d4c9f0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f70";

    private static IntentReceipt Receipt(int i) => new(PositionId, "NVDA", PositionStatus.Open, 69.51234567m + i, 130.06512345m,
        [new ExitRule(ExitTriggerType.TakeProfit, 1000, 5000), new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)],
        new TransactionRef($"paper-{PositionId}:add:intent:{i}", Hash, $"paper://tx/{Hash}", 42161, true,
            new DateTimeOffset(2026, 11, 28, 21, 15, 44, 189, TimeSpan.Zero)),
        i * 1.5m, i % 2 == 0 ? null : $"{PositionId}:{i}");

    private static HandledIntent Answer(long nonce, IntentReceipt receipt) =>
        new("0x" + string.Concat(Enumerable.Repeat("a1b2c3d4e5", 13)), Result<IntentExecution>.Ok(new IntentExecution(nonce, receipt)));

    [Fact]
    public void Positions_and_agents_are_stored_exactly_as_plain_json_with_their_receipts()
    {
        // The signed intent behind the position stays in its state from the open on; the agent holds one in flight.
        var signed = new IntentAuthorization(Guid.NewGuid(), new IntentRequest(IntentKind.OpenPosition, "NVDA", 100m, 0m, 0m, 0m, 100,
            [new ExitRule(ExitTriggerType.StopLoss, -1000, 10_000)], 1_795_904_137, 0, "0x3085\"d1"), "0x0c", new VaultToken("NVDA", "0x03f3", 18), "0x1979");
        var position = new PositionGrainState { Current = new PositionLifecycle { PositionId = "p", Authorization = signed } };
        var agent = new AgentState { Registered = true, Name = "alpha", InFlight = signed };
        for (var i = 0; i < 4; i++)
        {
            var receipt = Receipt(i);
            position.IntentChanges.Remember($"intent:{i}", receipt, capacity: 3);
            position.IntentReductions.Remember($"intent:{i + 100}", receipt with { Status = PositionStatus.Closed }, capacity: 3);
            position.BatchOpens.Remember($"batch:{i}", new OpenReceipt(receipt.PositionId, PositionStatus.Open, 100m, [], receipt.Transaction), capacity: 3);
            position.CloseReceipts.Remember($"batch:c{i}",
                new CloseReceipt(false, null, receipt.PositionId, PositionStatus.Closed, 1.5m, 131m, receipt.Transaction, $"swap-{i}"), capacity: 3);
            agent.AnsweredIntents.Remember($"{i}", Answer(i, receipt), capacity: 3);
            Assert.Equal(JsonSerializer.Serialize(position, Plain), Stored(position));
            Assert.Equal(JsonSerializer.Serialize(agent, Plain), Stored(agent));
        }

        // A receipt made with `with` is written from its own values, never as the form kept for its original.
        var moved = position.IntentChanges.Entries["intent:3"] with { Size = 1m };
        position.IntentChanges.Remember("intent:4", moved, capacity: 3);
        agent.AnsweredIntents.Remember("4", Answer(4, moved), capacity: 3);
        Assert.Equal(JsonSerializer.Serialize(position, Plain), Stored(position));
        Assert.Equal(JsonSerializer.Serialize(agent, Plain), Stored(agent));
        Assert.Equal(1m, Serializer.Deserialize<PositionGrainState>(Serializer.Serialize(position)).IntentChanges.Entries["intent:4"].Size);
        Assert.Equal(1m, Serializer.Deserialize<AgentState>(Serializer.Serialize(agent)).AnsweredIntents.Entries["4"].Result.Value!.Position.Size);
    }

    [Fact]
    public void An_agents_last_16_answers_and_its_positions_last_8_are_stored_in_under_half_the_bytes_of_whole_snapshots()
    {
        var position = new PositionGrainState();
        var agent = new AgentState { Registered = true };
        for (var i = 0; i < 16; i++)
        {
            position.IntentChanges.Remember($"intent:{i}", Receipt(i), capacity: 8);
            agent.AnsweredIntents.Remember($"{i}", Answer(i, Receipt(i)), capacity: 16);
        }
        // With whole snapshots they were 37 KB and 14 KB of the 40 KB and 19 KB each intent wrote (docs/benchmarks.md).
        // With realistic ids, hashes and signatures: 14,667 and 5,714 bytes measured.
        Assert.InRange(Serializer.Serialize(agent).ToMemory().Length, 14_000, 15_000);
        Assert.InRange(Serializer.Serialize(position).ToMemory().Length, 5_400, 6_000);
    }

    [Fact]
    public void Consecutive_writes_on_one_thread_each_store_exactly_their_own_state_whatever_came_before()
    {
        // The serializer keeps a writer per thread: nothing of an earlier state, larger or failed, may leak into the next.
        static PositionGrainState WithChanges(int count)
        {
            var state = new PositionGrainState();
            for (var i = 0; i < count; i++) state.IntentChanges.Remember($"intent:{i}", Receipt(i), capacity: count);
            return state;
        }
        var small = new PositionGrainState { LastTickSequence = 7 };
        var kept = WithChanges(150);   // over 64 KB: the thread's buffer grows, and is kept
        var dropped = WithChanges(400); // over 256 KB: the thread borrows a larger buffer and gives it back after the write
        Assert.InRange(Serializer.Serialize(kept).ToMemory().Length, 64 * 1024, 200 * 1024);
        Assert.True(Serializer.Serialize(dropped).ToMemory().Length > 256 * 1024);
        foreach (var state in new[] { small, kept, small, dropped, small, kept })
            Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(state, Plain), Serializer.Serialize(state).ToArray());

        Assert.Throws<InvalidOperationException>(() => Serializer.Serialize(new Failing { Before = "written", Value = "x" }));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(small, Plain), Serializer.Serialize(small).ToArray());
    }

    [Fact]
    public void A_state_of_megabytes_is_written_without_leaving_its_growing_buffers_to_the_garbage_collector()
    {
        // A batch's outcomes are megabytes. Growing a plain buffer from 64 KB to hold them left about twice their size in
        // discarded arrays on the large object heap at every write, which started full collections (docs/benchmarks.md);
        // the larger buffers are now borrowed from a pool and given back, so a write allocates about the bytes it stores
        // (the old writer: four times them). The bound leaves room for a 512 KB or 1 MB buffer another thread's write holds
        // meanwhile (the pool keeps one of each size).
        var large = new PositionGrainState();
        for (var i = 0; i < 2_000; i++) large.IntentChanges.Remember($"intent:{i}", Receipt(i), capacity: 2_000);
        var expected = JsonSerializer.SerializeToUtf8Bytes(large, Plain);
        Assert.True(expected.Length > 1024 * 1024);
        Assert.Equal(expected, Serializer.Serialize(large).ToArray()); // also fills the pool

        var before = GC.GetAllocatedBytesForCurrentThread();
        var stored = Serializer.Serialize(large);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(expected, stored.ToArray());
        Assert.InRange(allocated, expected.Length, 2L * expected.Length);
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
}
