using AccessLayer.Client;
using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class DynamicTimeoutTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static (DynamicTimeout Timeouts, NetworkQualityModel Quality) Create(MlpWeakNetworkOptions? options = null)
    {
        options ??= new MlpWeakNetworkOptions();
        var rtt = new RttEstimator();
        var quality = new NetworkQualityModel(options, rtt);
        return (new DynamicTimeout(options, rtt, quality), quality);
    }

    [Fact]
    public void Call_timeout_before_any_sample_assumes_RFC_6298s_initial_RTO_at_Normal()
    {
        var (timeouts, _) = Create();

        // 10 s server allowance + 2 × 1 s.
        Assert.Equal(TimeSpan.FromSeconds(12), timeouts.ForCall(Deadline, 0));
    }

    [Fact]
    public void Call_timeout_grows_with_RTT_variation_and_the_quality_multiplier()
    {
        var (good, goodQuality) = Create();
        for (var i = 0; i < 5; i++)
            goodQuality.OnRttSample(TimeSpan.FromMilliseconds(40));
        var (weak, weakQuality) = Create();
        weakQuality.OnRttSample(TimeSpan.FromMilliseconds(800)); // SRTT 800, RTTVAR 400: Weak

        var onGood = good.ForCall(Deadline, 0);
        var onWeak = weak.ForCall(Deadline, 0);

        Assert.Equal(NetworkQuality.Good, goodQuality.Quality);
        Assert.InRange(onGood.TotalMilliseconds, 10_040, 10_200);
        Assert.Equal(NetworkQuality.Weak, weakQuality.Quality);
        Assert.Equal(TimeSpan.FromMilliseconds(10_000 + 4 * (800 + 4 * 400)), onWeak);
    }

    [Fact]
    public void Payload_adds_its_transfer_time_at_the_bandwidth_assumed_for_the_quality()
    {
        var (timeouts, quality) = Create();
        quality.OnRttSample(TimeSpan.FromMilliseconds(800));
        var empty = timeouts.ForCall(Deadline, 0);

        var withBody = timeouts.ForCall(Deadline, 64 * 1024);

        Assert.Equal(TimeSpan.FromSeconds(2), withBody - empty); // 64 KiB at 32 KiB/s on a weak path
    }

    [Fact]
    public void The_callers_deadline_is_never_exceeded_and_an_infinite_one_is_kept()
    {
        var (timeouts, quality) = Create();
        quality.OnRttSample(TimeSpan.FromSeconds(3));

        Assert.Equal(TimeSpan.FromSeconds(5), timeouts.ForCall(TimeSpan.FromSeconds(5), 1 << 20));
        Assert.Equal(Timeout.InfiniteTimeSpan, timeouts.ForCall(Timeout.InfiniteTimeSpan, 0));
    }

    [Fact]
    public void Disabled_dynamic_timeouts_use_the_deadline_as_is()
    {
        var (timeouts, quality) = Create(new MlpWeakNetworkOptions { DynamicTimeouts = false });
        quality.OnRttSample(TimeSpan.FromMilliseconds(40));

        Assert.Equal(Deadline, timeouts.ForCall(Deadline, 0));
        Assert.Equal(TimeSpan.FromSeconds(10), timeouts.ForConnect(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Connect_timeout_is_the_configured_one_until_measured_then_shrinks_on_a_fast_path_and_stays_capped_on_a_slow_one()
    {
        var configured = TimeSpan.FromSeconds(10);
        var (fast, fastQuality) = Create();
        Assert.Equal(configured, fast.ForConnect(configured));
        for (var i = 0; i < 5; i++)
            fastQuality.OnRttSample(TimeSpan.FromMilliseconds(20));
        var (slow, slowQuality) = Create();
        slowQuality.OnRttSample(TimeSpan.FromSeconds(1));

        Assert.InRange(fast.ForConnect(configured).TotalMilliseconds, 2_080, 2_300); // 2 s + 4 × (SRTT + 4·RTTVAR)
        Assert.Equal(configured, slow.ForConnect(configured));
    }
}
