using System.Buffers;

namespace AccessLayer.Protocol.Tests.Compression;

/// <summary>An ArrayBufferWriter that remembers the largest span anyone asked it for.</summary>
internal sealed class TrackingBufferWriter : IBufferWriter<byte>
{
    private readonly ArrayBufferWriter<byte> _inner = new();

    public int LargestSizeHint { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _inner.WrittenSpan;

    public int WrittenCount => _inner.WrittenCount;

    public void Advance(int count) => _inner.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        LargestSizeHint = Math.Max(LargestSizeHint, sizeHint);
        return _inner.GetMemory(sizeHint);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        LargestSizeHint = Math.Max(LargestSizeHint, sizeHint);
        return _inner.GetSpan(sizeHint);
    }
}
