using AccessLayer.Bots.Metrics;
using FsCheck;
using FsCheck.Fluent;

namespace AccessLayer.Bots.Tests.Metrics;

public sealed class LatencyHistogramTests
{
    private static readonly double[] Quantiles = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];

    // Latency-like data: mostly small, with long tails spanning many powers of two.
    private static Arbitrary<long[]> Samples() =>
        Gen.Choose(0, 40).SelectMany(bits => Gen.Choose(0, int.MaxValue).Select(r => (long)r % (1L << Math.Min(bits, 30)) << Math.Max(0, bits - 30)))
            .ArrayOf()
            .Where(a => a.Length > 0)
            .ToArbitrary();

    [Fact]
    public void Percentiles_match_a_sorted_reference_within_bucket_precision()
    {
        Prop.ForAll(Samples(), values =>
        {
            var histogram = new LatencyHistogram();
            foreach (var v in values)
            {
                histogram.Record(v);
            }

            var sorted = values.OrderBy(v => v).ToArray();
            foreach (var q in Quantiles)
            {
                var rank = Math.Max(1, (long)Math.Ceiling(q * sorted.Length));
                var reference = sorted[rank - 1];
                var reported = histogram.ValueAtQuantile(q);
                // Never below the true value, and at most one sub-bucket (1/128) above it.
                if (reported < reference || reported > reference + (reference / 128))
                {
                    return false;
                }
            }

            return histogram.TotalCount == values.Length && histogram.Max == sorted[^1] && histogram.Min == sorted[0];
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Every_value_lies_inside_the_bucket_it_is_counted_in()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<long>().Filter(v => v >= 0), value =>
        {
            var index = LatencyHistogram.IndexOf(value);
            return index < LatencyHistogram.BucketCount
                && LatencyHistogram.LowestEquivalentValue(index) <= value
                && value <= LatencyHistogram.HighestEquivalentValue(index);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Buckets_are_contiguous_and_increasing()
    {
        for (var i = 1; i < LatencyHistogram.BucketCount; i++)
        {
            Assert.Equal(LatencyHistogram.HighestEquivalentValue(i - 1) + 1, LatencyHistogram.LowestEquivalentValue(i));
        }

        Assert.Equal(LatencyHistogram.BucketCount - 1, LatencyHistogram.IndexOf(long.MaxValue));
        Assert.Equal(long.MaxValue, LatencyHistogram.HighestEquivalentValue(LatencyHistogram.BucketCount - 1));
    }

    [Fact]
    public void Values_below_256_are_exact()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(3);
        histogram.Record(255);
        Assert.Equal(3, histogram.ValueAtQuantile(0.5));
        Assert.Equal(255, histogram.ValueAtQuantile(1));
    }

    [Fact]
    public void An_empty_histogram_reports_zero()
    {
        var histogram = new LatencyHistogram();
        Assert.Equal(0, histogram.ValueAtQuantile(0.99));
        Assert.Equal(0, histogram.Max);
        Assert.Equal(0, histogram.Min);
        Assert.Equal(0, histogram.TotalCount);
    }

    [Fact]
    public void Negative_values_are_recorded_as_zero()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(-5);
        Assert.Equal(0, histogram.Max);
        Assert.Equal(1, histogram.TotalCount);
    }

    [Fact]
    public void Add_merges_to_the_same_percentiles_as_recording_everything_in_one()
    {
        Prop.ForAll(Samples(), Samples(), (left, right) =>
        {
            var a = new LatencyHistogram();
            var b = new LatencyHistogram();
            var all = new LatencyHistogram();
            foreach (var v in left)
            {
                a.Record(v);
                all.Record(v);
            }

            foreach (var v in right)
            {
                b.Record(v);
                all.Record(v);
            }

            a.Add(b);
            return Quantiles.All(q => a.ValueAtQuantile(q) == all.ValueAtQuantile(q))
                && a.TotalCount == all.TotalCount && a.Max == all.Max && a.Min == all.Min && a.Sum == all.Sum;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FromBuckets_rebuilds_what_NonEmptyBuckets_exported()
    {
        Prop.ForAll(Samples(), values =>
        {
            var original = new LatencyHistogram();
            foreach (var v in values)
            {
                original.Record(v);
            }

            var copy = LatencyHistogram.FromBuckets(original.NonEmptyBuckets(), original.Min, original.Max, original.Sum);
            return Quantiles.All(q => copy.ValueAtQuantile(q) == original.ValueAtQuantile(q)) && copy.TotalCount == original.TotalCount;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void FromBuckets_rejects_an_index_out_of_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            LatencyHistogram.FromBuckets([new KeyValuePair<int, long>(LatencyHistogram.BucketCount, 1)], 0, 0, 0));
    }

    [Fact]
    public async Task Concurrent_recording_loses_no_counts()
    {
        var histogram = new LatencyHistogram();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < 50_000; i++)
            {
                histogram.Record((i * 7919L) % 1_000_000);
            }
        })));
        Assert.Equal(200_000, histogram.TotalCount);
        Assert.Equal(200_000, histogram.NonEmptyBuckets().Sum(b => b.Value));
    }
}
