namespace AccessLayer.Tests.Shared;

/// <summary>Mutated copies of a captured flight (a TLS ClientHello, early data) for tests that feed a server damaged input.</summary>
internal static class ByteMutations
{
    /// <summary>
    /// <paramref name="count"/> variants of <paramref name="original"/>: a third cut short at a random length, the rest with
    /// one to eight bytes set to random values anywhere. Deterministic for a seeded <paramref name="random"/>.
    /// </summary>
    public static byte[][] Variants(byte[] original, Random random, int count) =>
        Enumerable.Range(0, count).Select(_ =>
        {
            var bytes = (byte[])original.Clone();
            if (random.Next(3) == 0)
            {
                return bytes[..random.Next(1, bytes.Length)];
            }

            for (var flips = random.Next(1, 9); flips > 0; flips--)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            return bytes;
        }).ToArray();
}
