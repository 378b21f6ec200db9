using System.Buffers.Binary;

namespace AccessLayer.Protocol.Tests.Compression;

/// <summary>Hand-built zstd frames (RFC 8878 §3.1.1) for inputs no honest compressor produces.</summary>
internal static class ZstdTestFrames
{
    private static readonly byte[] Magic = [0x28, 0xB5, 0x2F, 0xFD];

    /// <summary>A single-segment frame whose header declares <paramref name="contentSize"/> but holds one RLE byte.</summary>
    public static byte[] DeclaringContentSize(ulong contentSize)
    {
        var frame = new List<byte>(Magic) { 0xE0 }; // FCS field 8 bytes, single segment
        Span<byte> fcs = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(fcs, contentSize);
        frame.AddRange(fcs.ToArray());
        AddRleBlock(frame, last: true, size: 1, value: 0);
        return [.. frame];
    }

    /// <summary>
    /// A frame without content size made of <paramref name="blocks"/> RLE blocks: a few bytes
    /// per block, up to 128 KiB of output each, what a streaming bomb looks like.
    /// </summary>
    public static byte[] RleWithoutContentSize(int blocks, int blockSize, byte value = 0, int windowLog = 17)
    {
        var frame = new List<byte>(Magic) { 0x00, (byte)((windowLog - 10) << 3) };
        for (var i = 0; i < blocks; i++)
            AddRleBlock(frame, last: i == blocks - 1, size: blockSize, value: value);
        return [.. frame];
    }

    private static void AddRleBlock(List<byte> frame, bool last, int size, byte value)
    {
        var header = (last ? 1 : 0) | (1 << 1) | (size << 3);
        frame.Add((byte)header);
        frame.Add((byte)(header >> 8));
        frame.Add((byte)(header >> 16));
        frame.Add(value);
    }
}
