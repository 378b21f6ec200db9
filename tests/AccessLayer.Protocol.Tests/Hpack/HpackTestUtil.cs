using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Hpack;

namespace AccessLayer.Protocol.Tests.Hpack;

/// <summary>Hex, multi-segment sequences and a collecting handler shared by the HPACK tests.</summary>
internal static class HpackTestUtil
{
    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    /// <summary>A sequence whose segments end at each cut position (empty segments kept as given).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var bounds = cuts.Append(data.Length).ToArray();
        var first = new Segment(data.AsMemory(0, bounds[0]), 0);
        var last = first;
        for (var i = 1; i < bounds.Length; i++)
        {
            last = last.Append(data.AsMemory(bounds[i - 1], bounds[i] - bounds[i - 1]));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Every octet in its own segment (each segment a separate array, so nothing is contiguous).</summary>
    public static ReadOnlySequence<byte> OneByteSegments(byte[] data)
    {
        if (data.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(new[] { data[0] }, 0);
        var last = first;
        for (var i = 1; i < data.Length; i++)
        {
            last = last.Append(new[] { data[i] });
        }

        return new ReadOnlySequence<byte>(first, 0, last, 1);
    }

    public static List<(string Name, string Value)> DecodeAll(HpackDecoder decoder, ReadOnlySequence<byte> block)
    {
        var handler = new CollectingHandler();
        decoder.Decode(block, handler);
        return handler.Fields;
    }

    public static List<(string Name, string Value)> DecodeAll(HpackDecoder decoder, byte[] block) =>
        DecodeAll(decoder, new ReadOnlySequence<byte>(block));

    public static List<(string Name, string Value)> TableEntries(HpackDynamicTable table) =>
        Enumerable.Range(0, table.Count)
            .Select(i => (Encoding.UTF8.GetString(table.GetName(i)), Encoding.UTF8.GetString(table.GetValue(i))))
            .ToList();

    public static byte[] Encode(HpackEncoder encoder, params (string Name, string Value)[] fields)
    {
        var output = new ArrayBufferWriter<byte>();
        encoder.Encode(fields.Select(f => new HeaderField(f.Name, f.Value)).ToArray(), output);
        return output.WrittenSpan.ToArray();
    }

    internal sealed class CollectingHandler : IHpackHeaderHandler
    {
        public List<(string Name, string Value)> Fields { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
            Fields.Add((Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value)));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
