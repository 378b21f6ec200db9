using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class RttEstimatorTests
{
    private static readonly TimeSpan Floor = TimeSpan.FromMilliseconds(750);
    private static readonly TimeSpan Ceiling = TimeSpan.FromSeconds(10);

    [Fact]
    public void First_sample_sets_SRTT_to_it_and_RTTVAR_to_half_of_it()
    {
        var rtt = new RttEstimator();
        Assert.False(rtt.HasSample);

        rtt.AddSample(TimeSpan.FromMilliseconds(200));

        Assert.True(rtt.HasSample);
        Assert.Equal(TimeSpan.FromMilliseconds(200), rtt.Smoothed);
        Assert.Equal(TimeSpan.FromMilliseconds(100), rtt.Variation);
    }

    [Fact]
    public void Later_samples_follow_RFC_6298_with_RTTVAR_updated_from_the_old_SRTT()
    {
        var rtt = new RttEstimator();
        rtt.AddSample(TimeSpan.FromMilliseconds(200));

        rtt.AddSample(TimeSpan.FromMilliseconds(400));

        // RTTVAR = 3/4·100 + 1/4·|200 − 400| = 125; SRTT = 7/8·200 + 1/8·400 = 225.
        Assert.Equal(TimeSpan.FromMilliseconds(125), rtt.Variation);
        Assert.Equal(TimeSpan.FromMilliseconds(225), rtt.Smoothed);
    }

    [Fact]
    public void Steady_samples_converge_and_the_variation_decays()
    {
        var rtt = new RttEstimator();
        rtt.AddSample(TimeSpan.FromMilliseconds(500));
        for (var i = 0; i < 60; i++)
            rtt.AddSample(TimeSpan.FromMilliseconds(80));

        Assert.InRange(rtt.Smoothed.TotalMilliseconds, 80, 81);
        Assert.InRange(rtt.Variation.TotalMilliseconds, 0, 1);
    }

    [Fact]
    public void Dead_link_timeout_is_the_ceiling_before_any_sample()
    {
        Assert.Equal(Ceiling, new RttEstimator().DeadLinkTimeout(Floor, Ceiling));
    }

    [Fact]
    public void Dead_link_timeout_is_3_SRTT_plus_4_RTTVAR_between_floor_and_ceiling()
    {
        var slow = new RttEstimator();
        slow.AddSample(TimeSpan.FromMilliseconds(400)); // 3·400 + 4·200 = 2000
        var fast = new RttEstimator();
        fast.AddSample(TimeSpan.FromMilliseconds(2));
        var awful = new RttEstimator();
        awful.AddSample(TimeSpan.FromSeconds(5));

        Assert.Equal(TimeSpan.FromMilliseconds(2000), slow.DeadLinkTimeout(Floor, Ceiling));
        Assert.Equal(Floor, fast.DeadLinkTimeout(Floor, Ceiling));
        Assert.Equal(Ceiling, awful.DeadLinkTimeout(Floor, Ceiling));
    }

    [Theory]
    [InlineData(0, 1)]      // a clean path: one retransmission, as before
    [InlineData(0.05, 2)]   // lossy (by hysteresis) but few slow calls: two
    [InlineData(0.2, 2)]    // 0.2³ = 0.8 %
    [InlineData(0.3, 3)]    // 0.3³ = 2.7 %: three
    [InlineData(0.9, 3)]    // at most three
    public void The_retransmissions_a_PONG_is_given_time_for_follow_the_share_of_calls_that_waited_for_one(double share, int expected)
    {
        Assert.Equal(expected, RttEstimator.RetransmissionsToAllow(share));
    }

    [Fact]
    public void On_a_lossy_path_the_dead_link_timeout_allows_backed_off_retransmissions_within_the_ceiling()
    {
        var rtt = new RttEstimator();
        rtt.AddSample(TimeSpan.FromMilliseconds(400)); // SRTT 400, RTTVAR 200: TCP's RTO 1200 ms

        Assert.Equal(TimeSpan.FromMilliseconds(2000), rtt.DeadLinkTimeout(Floor, Ceiling, retransmissions: 1));
        Assert.Equal(TimeSpan.FromMilliseconds(400 + (3 * 1200)), rtt.DeadLinkTimeout(Floor, Ceiling, retransmissions: 2));
        Assert.Equal(TimeSpan.FromMilliseconds(400 + (7 * 1200)), rtt.DeadLinkTimeout(Floor, Ceiling, retransmissions: 3));
        Assert.Equal(TimeSpan.FromSeconds(5), rtt.DeadLinkTimeout(Floor, TimeSpan.FromSeconds(5), retransmissions: 3));

        // RTTVAR's share of the RTO is at least 200 ms, as in Linux's TCP.
        var steady = new RttEstimator();
        for (var i = 0; i < 100; i++)
            steady.AddSample(TimeSpan.FromMilliseconds(400));
        Assert.InRange(steady.DeadLinkTimeout(Floor, Ceiling, retransmissions: 2).TotalMilliseconds, 2200, 2201);
    }
}
