using AccessLayer.Client.Strategies;

namespace AccessLayer.Mlp.Tests.Strategies;

public sealed class CallLatencyWindowTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Nothing_is_expected_before_the_first_answer()
    {
        Assert.Null(new CallLatencyWindow().Expected());
    }

    [Fact]
    public void The_calls_that_waited_for_a_retransmission_do_not_move_the_expected_latency()
    {
        // A 400 ms path losing 10 %: most calls take one round trip, a few a retransmission more. A mean and variance
        // (RFC 6298 over calls) would expect about 1.3 s, after which a hedge can no longer beat a 1.2 s tail.
        var window = new CallLatencyWindow();
        double[] latencies = [410, 405, 1020, 415, 400, 420, 1610, 405, 410, 1000, 412, 408];
        foreach (var latency in latencies)
            window.Add(Ms(latency));

        // Median 411 ms; the absolute deviations' median 6 ms: 411 + 4 × 6 = 435 ms, below the floor of 1.5 × 411.
        Assert.Equal(Ms(616.5), window.Expected());
    }

    [Fact]
    public void A_wide_spread_raises_the_expected_latency_above_the_floor()
    {
        var window = new CallLatencyWindow();
        foreach (var latency in new double[] { 100, 300, 500, 700, 900 })
            window.Add(Ms(latency));

        // Median 500 ms, deviations 400, 200, 0, 200, 400: MAD 200 ms, 500 + 800 above 750.
        Assert.Equal(Ms(1300), window.Expected());
    }

    [Fact]
    public void Only_the_latest_answers_count()
    {
        var window = new CallLatencyWindow();
        for (var i = 0; i < CallLatencyWindow.Capacity; i++)
            window.Add(Ms(2000));
        for (var i = 0; i < CallLatencyWindow.Capacity; i++)
            window.Add(Ms(100));

        Assert.Equal(Ms(150), window.Expected()); // 1.5 × the median of the latest 32 only
    }
}
