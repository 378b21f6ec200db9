namespace AccessLayer.Fuzz;

/// <summary>
/// Makes one input from a corpus of valid encodings: random bytes now and then, otherwise one to four
/// mutations of a corpus entry (bit flips, interesting bytes, arithmetic, truncation, length-field
/// inflation, deletion, duplication, insertion, splicing with another entry).
/// </summary>
public static class FuzzMutator
{
    public const int MaxInputLength = 64 * 1024;

    private static readonly byte[] Interesting = [0x00, 0x01, 0x02, 0x0F, 0x10, 0x1F, 0x20, 0x3F, 0x40, 0x7E, 0x7F, 0x80, 0x81, 0xC0, 0xFE, 0xFF];

    // Large values in the encodings our decoders read: MQTT/MLP varints (4-byte maximum and over-long),
    // HPACK integers past 2^31, 16- and 32-bit big-endian lengths, a protobuf length varint.
    private static readonly byte[][] Inflations =
    [
        [0xFF, 0xFF, 0xFF, 0x7F],
        [0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
        [0x80, 0x80, 0x80, 0x80, 0x01],
        [0xFF, 0xFF],
        [0x7F, 0xFF, 0xFF, 0xFF],
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
        [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
        [0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
        [0x3F, 0xE1, 0xFF, 0x03],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
    ];

    /// <summary>Writes input number <paramref name="index"/> of <paramref name="seed"/> into <paramref name="buffer"/>; returns its length.</summary>
    public static int Generate(IReadOnlyList<byte[]> corpus, ulong seed, long index, byte[] buffer)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(buffer);
        var random = new FuzzRandom(seed, index);
        if (corpus.Count == 0 || random.OneIn(10))
        {
            var length = random.OneIn(4) ? random.Next(1024) : random.Next(64);
            random.NextBytes(buffer.AsSpan(0, length));
            return length;
        }

        var entry = corpus[random.Next(corpus.Count)];
        var n = Math.Min(entry.Length, buffer.Length);
        entry.AsSpan(0, n).CopyTo(buffer);
        var mutations = 1 + random.Next(4);
        for (var i = 0; i < mutations; i++)
        {
            n = Mutate(ref random, corpus, buffer, n);
        }

        return n;
    }

    private static int Mutate(ref FuzzRandom random, IReadOnlyList<byte[]> corpus, byte[] buffer, int n)
    {
        switch (random.Next(10))
        {
            case 0 when n > 0:
                buffer[random.Next(n)] ^= (byte)(1 << random.Next(8));
                return n;
            case 1 when n > 0:
                buffer[random.Next(n)] = Interesting[random.Next(Interesting.Length)];
                return n;
            case 2 when n > 0:
                buffer[random.Next(n)] += (byte)random.Next(-16, 17);
                return n;
            case 3 when n > 0:
                return random.Next(n);
            case 4:
            {
                var value = Inflations[random.Next(Inflations.Length)];
                var at = random.Next(n + 1);
                return random.OneIn(2) ? Overwrite(buffer, n, at, value) : Insert(buffer, n, at, value);
            }

            case 5 when n > 1:
            {
                var at = random.Next(n);
                var length = 1 + random.Next(Math.Min(n - at, 64));
                buffer.AsSpan(at + length, n - at - length).CopyTo(buffer.AsSpan(at));
                return n - length;
            }

            case 6 when n > 0:
            {
                var at = random.Next(n);
                var length = 1 + random.Next(Math.Min(n - at, 256));
                var chunk = buffer.AsSpan(at, length).ToArray();
                var repeats = random.OneIn(8) ? 1 + random.Next(32) : 1;
                for (var r = 0; r < repeats; r++)
                {
                    n = Insert(buffer, n, random.Next(n + 1), chunk);
                }

                return n;
            }

            case 7:
            {
                Span<byte> noise = stackalloc byte[1 + random.Next(16)];
                random.NextBytes(noise);
                return Insert(buffer, n, random.Next(n + 1), noise);
            }

            default:
            {
                // Splice: this input's head, another entry's tail.
                var other = corpus[random.Next(corpus.Count)];
                var cut = random.Next(n + 1);
                var from = random.Next(other.Length + 1);
                var length = Math.Min(other.Length - from, buffer.Length - cut);
                other.AsSpan(from, length).CopyTo(buffer.AsSpan(cut));
                return cut + length;
            }
        }
    }

    private static int Overwrite(byte[] buffer, int n, int at, ReadOnlySpan<byte> value)
    {
        var length = Math.Min(value.Length, buffer.Length - at);
        value[..length].CopyTo(buffer.AsSpan(at));
        return Math.Max(n, at + length);
    }

    private static int Insert(byte[] buffer, int n, int at, ReadOnlySpan<byte> value)
    {
        var length = Math.Min(value.Length, buffer.Length - n);
        if (length <= 0)
        {
            return n;
        }

        buffer.AsSpan(at, n - at).CopyTo(buffer.AsSpan(at + length));
        value[..length].CopyTo(buffer.AsSpan(at));
        return n + length;
    }
}
