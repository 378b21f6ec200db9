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
}
