using AccessLayer.Gateway.Hosting;

namespace AccessLayer.Gateway.Tests.Transport;

public sealed class ConnectStormPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly MemoryOptions Options = new() { TrimMinConnectionChange = 1000, TrimQuietSeconds = 5, TrimMinIntervalSeconds = 60 };

    [Fact]
    public void Trims_once_the_count_has_grown_and_then_stayed_quiet()
    {
        var policy = new ConnectStormPolicy(Options);
        var fired = new List<int>();
        var counts = new[] { 0, 500, 1500, 3000, 3000, 3001, 3002, 3002, 3002, 3002, 3002, 3002 };
        for (var s = 0; s < counts.Length; s++)
        {
            if (policy.Observe(counts[s], T0.AddSeconds(s)))
            {
                fired.Add(s);
            }
        }

        Assert.Equal([8], fired);
    }

    [Fact]
    public void Never_trims_while_the_count_keeps_moving()
    {
        var policy = new ConnectStormPolicy(Options);
        for (var s = 0; s < 120; s++)
        {
            Assert.False(policy.Observe(s * 100, T0.AddSeconds(s)));
        }
    }

    [Fact]
    public void Small_changes_do_not_trim()
    {
        var policy = new ConnectStormPolicy(Options);
        policy.Observe(500, T0);
        for (var s = 1; s < 30; s++)
        {
            Assert.False(policy.Observe(500, T0.AddSeconds(s)));
        }
    }

    [Fact]
    public void A_mass_disconnect_trims_too_but_not_sooner_than_the_minimum_interval()
    {
        var policy = new ConnectStormPolicy(Options);
        policy.Observe(5000, T0);
        Assert.True(policy.Observe(5000, T0.AddSeconds(6)));

        policy.Observe(0, T0.AddSeconds(7));
        Assert.False(policy.Observe(0, T0.AddSeconds(20)));
        Assert.True(policy.Observe(0, T0.AddSeconds(67)));
    }
}
