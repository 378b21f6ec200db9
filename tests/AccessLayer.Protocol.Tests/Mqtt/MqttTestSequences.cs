using System.Buffers;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s, the way a pipe hands data to a parser.</summary>
internal static class MqttTestSequences
{
    public static ReadOnlySequence<byte> FromSegments(params byte[][] parts)
    {
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        var last = first;
        for (var i = 1; i < parts.Length; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments split at <paramref name="at"/> (either may be empty).</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] data, int at) => FromSegments(data[..at], data[at..]);

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] data) =>
        data.Length == 0 ? ReadOnlySequence<byte>.Empty : FromSegments(data.Select(b => new[] { b }).ToArray());

    /// <summary>Every layout a valid input is tested in: contiguous, each two-way split, three-way splits, and byte by byte.</summary>
    public static IEnumerable<(string Layout, ReadOnlySequence<byte> Sequence)> AllLayouts(byte[] data)
    {
        yield return ("contiguous", new ReadOnlySequence<byte>(data));
        for (var i = 0; i <= data.Length; i++)
        {
            yield return ($"split at {i}", SplitAt(data, i));
        }

        // Three-way splits on a stride keep the count bounded for large packets.
        var stride = Math.Max(1, data.Length / 16);
        for (var i = 1; i < data.Length; i += stride)
        {
            for (var j = i + 1; j < data.Length; j += stride)
            {
                yield return ($"split at {i} and {j}", FromSegments(data[..i], data[i..j], data[j..]));
            }
        }

        yield return ("one byte per segment", OneBytePerSegment(data));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
