namespace AccessLayer.Bots.Metrics;

/// <summary>
/// A log-linear (HDR-style) histogram of non-negative values: exact below 256, then 128 linear
/// sub-buckets per power of two, so any reported value is within 1/128 (0.8%) of a recorded one.
/// Recording is lock-free and safe from many receive loops at once; min, max and count are exact.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBucketBits = 8;
    private const int SubBucketCount = 1 << SubBucketBits;
    private const int HalfSubBucketCount = SubBucketCount / 2;

    /// <summary>Enough buckets for every non-negative long.</summary>
    public const int BucketCount = SubBucketCount + ((63 - SubBucketBits) * HalfSubBucketCount);

    private readonly long[] _counts = new long[BucketCount];
    private long _totalCount;
    private long _max;
    private long _min = long.MaxValue;
    private long _sum;

    public long TotalCount => Volatile.Read(ref _totalCount);

    /// <summary>The largest recorded value, 0 when empty.</summary>
    public long Max => Volatile.Read(ref _max);

    /// <summary>The smallest recorded value, 0 when empty.</summary>
    public long Min => TotalCount == 0 ? 0 : Volatile.Read(ref _min);

    public double Mean => TotalCount == 0 ? 0 : (double)Volatile.Read(ref _sum) / TotalCount;

    public void Record(long value)
    {
        if (value < 0)
        {
            value = 0;
        }

        Interlocked.Increment(ref _counts[IndexOf(value)]);
        Interlocked.Increment(ref _totalCount);
        Interlocked.Add(ref _sum, value);
        UpdateMax(value);
        UpdateMin(value);
    }

    /// <summary>
    /// The value at quantile <paramref name="quantile"/> (0..1): the highest value equivalent to the
    /// bucket holding the ceil(q*n)-th smallest recording, capped at the exact max. 0 when empty.
    /// </summary>
    public long ValueAtQuantile(double quantile)
    {
        var total = TotalCount;
        if (total == 0)
        {
            return 0;
        }

        quantile = Math.Clamp(quantile, 0, 1);
        var rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += Volatile.Read(ref _counts[i]);
            if (seen >= rank)
            {
                return Math.Clamp(HighestEquivalentValue(i), Min, Max);
            }
        }

        return Max;
    }

    /// <summary>Adds every recording of <paramref name="other"/> (merging per-worker results).</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.TotalCount == 0)
        {
            return;
        }

        for (var i = 0; i < BucketCount; i++)
        {
            var count = Volatile.Read(ref other._counts[i]);
            if (count != 0)
            {
                Interlocked.Add(ref _counts[i], count);
            }
        }

        Interlocked.Add(ref _totalCount, other.TotalCount);
        Interlocked.Add(ref _sum, Volatile.Read(ref other._sum));
        UpdateMax(other.Max);
        UpdateMin(other.Min);
    }

    /// <summary>Non-empty buckets as (index, count), for shipping a histogram between processes.</summary>
    public IEnumerable<KeyValuePair<int, long>> NonEmptyBuckets()
    {
        for (var i = 0; i < BucketCount; i++)
        {
            var count = Volatile.Read(ref _counts[i]);
            if (count != 0)
            {
                yield return new KeyValuePair<int, long>(i, count);
            }
        }
    }

    /// <summary>Rebuilds a histogram from <see cref="NonEmptyBuckets"/> plus the exact min, max and sum.</summary>
    public static LatencyHistogram FromBuckets(IEnumerable<KeyValuePair<int, long>> buckets, long min, long max, long sum)
    {
        ArgumentNullException.ThrowIfNull(buckets);
        var histogram = new LatencyHistogram();
        foreach (var (index, count) in buckets)
        {
            if ((uint)index >= BucketCount || count < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(buckets), index, "Bucket index or count out of range.");
            }

            histogram._counts[index] += count;
            histogram._totalCount += count;
        }

        if (histogram._totalCount > 0)
        {
            histogram._min = min;
            histogram._max = max;
            histogram._sum = sum;
        }

        return histogram;
    }

    public long Sum => Volatile.Read(ref _sum);

    internal static int IndexOf(long value)
    {
        if (value < SubBucketCount)
        {
            return (int)value;
        }

        // Keep the top SubBucketBits bits: mantissa lands in [half, full) of a sub-bucket range.
        var magnitude = 63 - long.LeadingZeroCount(value);
        var shift = (int)magnitude - (SubBucketBits - 1);
        var mantissa = (int)(value >> shift);
        return SubBucketCount + ((shift - 1) * HalfSubBucketCount) + (mantissa - HalfSubBucketCount);
    }

    internal static long LowestEquivalentValue(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        var k = index - SubBucketCount;
        var shift = (k / HalfSubBucketCount) + 1;
        long mantissa = (k % HalfSubBucketCount) + HalfSubBucketCount;
        return mantissa << shift;
    }

    internal static long HighestEquivalentValue(int index)
    {
        if (index < SubBucketCount)
        {
            return index;
        }

        var k = index - SubBucketCount;
        var shift = (k / HalfSubBucketCount) + 1;
        long mantissa = (k % HalfSubBucketCount) + HalfSubBucketCount;
        var next = (mantissa + 1) << shift;
        return next <= 0 ? long.MaxValue : next - 1;
    }

    private void UpdateMax(long value)
    {
        var current = Volatile.Read(ref _max);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _max, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private void UpdateMin(long value)
    {
        var current = Volatile.Read(ref _min);
        while (value < current)
        {
            var seen = Interlocked.CompareExchange(ref _min, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
