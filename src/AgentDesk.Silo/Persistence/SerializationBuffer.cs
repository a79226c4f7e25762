using System.Buffers;

namespace AgentDesk.Silo.Persistence;

/// <summary>
/// The buffer a thread writes grain state into. It grows with plain arrays up to <see cref="KeptBytes"/> and keeps them for
/// the thread's next writes; past that (a batch's outcomes, megabytes) it borrows arrays from a small pool of its own and
/// gives them back when the write is done. Grown with plain arrays all the way, every such write left about twice its size
/// in discarded arrays on the large object heap, and their budget started full collections in the middle of batches
/// (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// The pool keeps at most one array of each size from 512 KB to 8 MB, about 16 MB for the process, whichever threads
/// wrote. The shared pool keeps arrays per thread as well: with it, the heap held some 50 MB more after a fan-out until
/// it trimmed them. A state larger than 8 MB gets an array of its own, as before.
/// </remarks>
internal sealed class SerializationBuffer : IBufferWriter<byte>
{
    /// <summary>What a thread keeps between writes: an agent's state is some KB, an exit index page some 40 KB.</summary>
    private const int KeptBytes = 256 * 1024;

    private const int InitialBytes = 64 * 1024;

    private static readonly ArrayPool<byte> LargeBuffers = ArrayPool<byte>.Create(maxArrayLength: 8 * 1024 * 1024, maxArraysPerBucket: 1);

    private byte[] _kept = new byte[InitialBytes];
    private byte[] _buffer;
    private int _written;

    public SerializationBuffer() => _buffer = _kept;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _written);
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(sizeHint); // before reading _buffer, which it may replace
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(sizeHint);
        return _buffer.AsSpan(_written);
    }

    /// <summary>Empties the buffer for the next write, giving a borrowed array back to the pool.</summary>
    public void Reset()
    {
        _written = 0;
        if (_buffer == _kept) return;
        LargeBuffers.Return(_buffer);
        _buffer = _kept;
    }

    /// <summary>Makes room for at least <paramref name="sizeHint"/> bytes (one if zero) after those written.</summary>
    private void Reserve(int sizeHint)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length) return;
        var size = Math.Max(needed, 2 * _buffer.Length);
        var grown = size <= KeptBytes ? new byte[size] : LargeBuffers.Rent(size);
        WrittenSpan.CopyTo(grown);
        if (_buffer != _kept) LargeBuffers.Return(_buffer);
        if (size <= KeptBytes) _kept = grown;
        _buffer = grown;
    }
}
