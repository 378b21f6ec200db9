using AccessLayer.Client;
using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class FreshConnectAttemptsTests
{
    [Theory]
    [InlineData(new double[0], 1000)] // no sample: the initial RTO, as the kernel's first SYN retransmission
    [InlineData(new[] { 8.0, 8, 8, 8, 8, 8, 8, 8 }, 100)] // a fast path: the floor
    [InlineData(new[] { 400.0, 420, 380, 400, 410, 390, 400, 400, 400, 400, 400, 400 }, -1)] // a slow one: SRTT + 4 × RTTVAR
    [InlineData(new[] { 2000.0 }, 1000)] // never slower than the kernel's own retransmission
    public void The_interval_is_the_paths_RTO_within_the_floor_and_1_s(double[] samplesMs, double expectedMs)
    {
        var rtt = new RttEstimator();
        foreach (var sample in samplesMs)
            rtt.AddSample(TimeSpan.FromMilliseconds(sample));
        var fresh = new FreshConnectAttempts(new MlpWeakNetworkOptions(), rtt);

        if (expectedMs < 0)
        {
            Assert.Equal(rtt.Smoothed + 4 * rtt.Variation, fresh.Interval);
            Assert.InRange(fresh.Interval.TotalMilliseconds, 400, 1000);
        }
        else
        {
            Assert.Equal(expectedMs, fresh.Interval.TotalMilliseconds, 3);
        }
    }

    [Fact]
    public void The_budget_is_per_outage_and_zero_turns_fresh_attempts_off()
    {
        var fresh = new FreshConnectAttempts(new MlpWeakNetworkOptions { ReconnectOwedMaxFreshAttempts = 3 }, new RttEstimator());

        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => fresh.TryTake()).ToArray());
        Assert.False(fresh.Available);
        fresh.Reset();
        Assert.True(fresh.Available);
        Assert.True(fresh.TryTake());
        Assert.Equal(4, fresh.Taken);

        var off = new FreshConnectAttempts(new MlpWeakNetworkOptions { ReconnectOwedMaxFreshAttempts = 0 }, new RttEstimator());
        Assert.False(off.Enabled);
        Assert.False(off.TryTake());
    }
}
