using AccessLayer.Bots.Client;

namespace AccessLayer.Bots.Tests.Client;

public sealed class ReconnectBackoffTests
{
    private static readonly ReconnectBackoff Backoff = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    [Theory]
    [InlineData(0, 100)]
    [InlineData(1, 200)]
    [InlineData(2, 400)]
    [InlineData(5, 3200)]
    [InlineData(6, 5000)]
    [InlineData(40, 5000)]
    public void The_ceiling_doubles_per_attempt_up_to_the_cap(int attempt, int ceilingMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(ceilingMs), Backoff.Delay(attempt, 1.0));
        // Equal jitter: never under half the ceiling, so a failed node's clients still spread out but do not spin.
        Assert.Equal(TimeSpan.FromMilliseconds(ceilingMs / 2.0), Backoff.Delay(attempt, 0.0));
    }

    [Fact]
    public void Jitter_spreads_delays_between_half_and_the_whole_ceiling()
    {
        var delays = Enumerable.Range(0, 100).Select(i => Backoff.Delay(3, i / 100.0)).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(800)));
        Assert.Equal(100, delays.Distinct().Count());
    }
}
