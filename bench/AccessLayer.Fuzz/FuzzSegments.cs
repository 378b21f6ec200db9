using System.Buffers;

namespace AccessLayer.Fuzz;

/// <summary>
/// Presents an input as a pipe would: one segment, or cut at a few random points (the decoders'
/// segment-crossing paths). The cut points come from the same (seed, index), so a replay cuts alike.
/// </summary>
public static class FuzzSegments
{
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> input, ulong seed, long index)
    {
        var random = new FuzzRandom(seed ^ 0x5E65E675E65E675EUL, index);
        if (input.Length < 2 || random.OneIn(2))
        {
            return new ReadOnlySequence<byte>(input);
        }

        var cuts = new SortedSet<int>();
        var count = 1 + random.Next(random.OneIn(8) ? 16 : 3);
        for (var i = 0; i < count; i++)
        {
            cuts.Add(1 + random.Next(input.Length - 1));
        }

        Segment? first = null;
        Segment? last = null;
        var start = 0;
        foreach (var cut in cuts.Append(input.Length))
        {
            // Each segment is its own array, as separate pipe buffers are.
            var segment = new Segment(input[start..cut].ToArray());
            if (first is null)
            {
                first = segment;
            }
            else
            {
                last!.Append(segment);
            }

            last = segment;
            start = cut;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    /// <summary>The lengths of the segments of <paramref name="sequence"/>, for a crash report.</summary>
    public static string Describe(in ReadOnlySequence<byte> sequence)
    {
        var lengths = new List<int>();
        foreach (var memory in sequence)
        {
            lengths.Add(memory.Length);
        }

        return string.Join('+', lengths);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory)
        {
            Memory = memory;
        }

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
