using AccessLayer.Gateway.Dashboard;
using AccessLayer.SessionGrains.Nodes;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>The dashboard's history: a fixed number of samples, the oldest overwritten, read back after a time.</summary>
public sealed class StatsRingTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Past_its_capacity_the_oldest_samples_are_overwritten_and_the_rest_come_back_oldest_first()
    {
        var ring = new StatsRing(5);
        for (var i = 1; i <= 12; i++)
        {
            ring.Add(Sample(i));
        }

        Assert.Equal(5, ring.Count);
        Assert.Equal([8, 9, 10, 11, 12], ring.Since(DateTimeOffset.MinValue).Select(Second));
    }

    [Fact]
    public void Since_returns_only_the_samples_taken_strictly_after_the_time()
    {
        var ring = new StatsRing(10);
        for (var i = 1; i <= 4; i++)
        {
            ring.Add(Sample(i));
        }

        // A poller passes the time of the last point it has: it must not get that point twice.
        Assert.Equal([3, 4], ring.Since(Start.AddSeconds(2)).Select(Second));
        Assert.Empty(ring.Since(Start.AddSeconds(4)));
    }

    private static int Second(NodeStatsSample sample) => (int)(sample.At - Start).TotalSeconds;

    private static NodeStatsSample Sample(int second) => new(Start.AddSeconds(second), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
