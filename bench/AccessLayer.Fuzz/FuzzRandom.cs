namespace AccessLayer.Fuzz;

/// <summary>
/// SplitMix64: tiny, fast and the same on every runtime, so (seed, index) names one input forever
/// (System.Random's seeded sequence is not promised across .NET versions).
/// </summary>
public struct FuzzRandom
{
    private ulong _state;

    public FuzzRandom(ulong seed, long index)
    {
        _state = seed ^ ((ulong)index * 0x9E3779B97F4A7C15UL) ^ 0xD1B54A32D192ED03UL;
        NextUInt64();
    }

    public ulong NextUInt64()
    {
        var z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>0 .. <paramref name="maxExclusive"/> - 1 (0 when the bound is 0 or less).</summary>
    public int Next(int maxExclusive) => maxExclusive <= 0 ? 0 : (int)(NextUInt64() % (ulong)maxExclusive);

    public int Next(int minInclusive, int maxExclusive) => minInclusive + Next(maxExclusive - minInclusive);

    /// <summary>True with probability 1 / <paramref name="n"/>.</summary>
    public bool OneIn(int n) => Next(n) == 0;

    public byte NextByte() => (byte)NextUInt64();

    public void NextBytes(Span<byte> destination)
    {
        foreach (ref var b in destination)
        {
            b = NextByte();
        }
    }
}
