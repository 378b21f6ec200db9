using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class CallLatencyWindowTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    // A 400 ms path losing 10 % each way: most calls take one round trip, about one in five a retransmission more.
    private static readonly double[] Lossy = [410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408, 1240, 401, 409, 411, 403, 417, 406, 404];

    private static CallLatencyWindow Filled(IEnumerable<double> latencies)
    {
        var window = new CallLatencyWindow();
        foreach (var latency in latencies)
            window.Add(Ms(latency));
        return window;
    }

    [Fact]
    public void Nothing_is_known_before_the_first_answer()
    {
        var window = new CallLatencyWindow();
        Assert.Null(window.Quantile(0.9));
        Assert.Null(window.Median());
        Assert.Null(window.MedianAbsoluteDeviation());
        Assert.Equal(0, window.SlowShare());
    }

    [Fact]
    public void A_quantile_below_the_share_of_retransmitted_calls_stays_with_the_calls_that_lost_nothing()
    {
        var window = Filled(Lossy);

        // 4 of 20 waited for a retransmission: the 75th percentile (nearest rank 15) is still a clean call, the 90th is not.
        Assert.Equal(Ms(417), window.Quantile(0.75));
        Assert.Equal(Ms(1020), window.Quantile(0.9));
        Assert.Equal(Ms(410), window.Median());
        // The spread of the calls that lost nothing, not of the retransmitted ones.
        Assert.Equal(Ms(5), window.MedianAbsoluteDeviation());
    }

    [Fact]
    public void The_share_of_calls_over_twice_the_median_measures_the_loss()
    {
        Assert.Equal(0.2, Filled(Lossy).SlowShare(), 3);
        // Jitter is not loss: calls within twice the median are not slow, nor on a fast path calls less than TCP's minimum RTO late.
        Assert.Equal(0, Filled([100, 150, 190, 120, 299]).SlowShare());
        Assert.Equal(0, Filled([3, 3, 4, 3, 90, 3, 150]).SlowShare());
        Assert.Equal(1.0 / 7, Filled([3, 3, 4, 3, 90, 3, 250]).SlowShare(), 3);
    }

    [Fact]
    public void A_first_copy_beaten_by_its_hedge_counts_as_slow_but_does_not_move_the_median()
    {
        var window = Filled(Lossy);
        // Hedges answered 20 more calls; their first copies were still out after 900 ms. Were they medians, the median would climb
        // past the clean calls, the hedge delay with it, the hedges' wins later still: the delay would feed on itself.
        for (var i = 0; i < 20; i++)
            window.Add(Ms(900), censored: true);

        Assert.Equal(Ms(410), window.Median());
        Assert.Equal(Ms(5), window.MedianAbsoluteDeviation());
        Assert.Equal(24.0 / 40, window.SlowShare(), 3);
    }

    [Fact]
    public void Only_the_latest_answers_count()
    {
        var window = new CallLatencyWindow();
        for (var i = 0; i < CallLatencyWindow.Capacity; i++)
            window.Add(Ms(2000));
        for (var i = 0; i < CallLatencyWindow.Capacity; i++)
            window.Add(Ms(100));

        Assert.Equal(Ms(100), window.Quantile(1));
        Assert.Equal(0, window.SlowShare());
    }
}
