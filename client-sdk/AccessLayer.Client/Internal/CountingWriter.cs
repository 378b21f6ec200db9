using System.Buffers;

namespace AccessLayer.Client.Internal;

/// <summary>Counts what a frame writer wrote, for the byte totals.</summary>
internal sealed class CountingWriter(IBufferWriter<byte> inner) : IBufferWriter<byte>
{
    public long Written { get; private set; }

    public void Advance(int count)
    {
        inner.Advance(count);
        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
}
