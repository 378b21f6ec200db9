using System.Buffers;

namespace AccessLayer.Protocol.Tests.Compression;

/// <summary>Builds multi-segment sequences, the shape pipes hand to decoders.</summary>
internal static class TestSequences
{
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, params int[] cuts)
    {
        var start = 0;
        Segment? first = null, last = null;
        foreach (var cut in cuts.Append(data.Length))
        {
            var segment = new Segment(data[start..cut].ToArray(), start);
            if (first is null)
                first = segment;
            else
                last!.SetNext(segment);
            last = segment;
            start = cut;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public void SetNext(Segment next) => Next = next;
    }
}
