using AccessLayer.Gateway.Governance;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class FlappingDetectorTests
{
    private readonly FakeTimeProvider _time = new();

    private FlappingDetector Create(int max = 3) => new(Options.Create(new LimitsOptions
    {
        FlappingMaxConnects = max,
        FlappingWindow = TimeSpan.FromSeconds(60),
        FlappingBanDuration = TimeSpan.FromMinutes(5),
    }), _time);

    [Fact]
    public void The_connect_past_the_maximum_in_a_window_starts_a_ban_that_lasts_its_duration()
    {
        var detector = Create();
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(detector.Record("c", out _));
        }

        Assert.Equal(TimeSpan.FromMinutes(5), detector.Record("c", out var newly));
        Assert.True(newly);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(TimeSpan.FromMinutes(3), detector.Record("c", out newly));
        Assert.False(newly);
        Assert.Equal("c", Assert.Single(detector.Bans()).ClientId);

        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Null(detector.Record("c", out _));
        Assert.Empty(detector.Bans());
    }

    [Fact]
    public void The_window_restarts_after_it_passes()
    {
        var detector = Create();
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(detector.Record("c", out _));
            Assert.Null(detector.Record("c", out _));
            _time.Advance(TimeSpan.FromSeconds(61));
        }
    }

    [Fact]
    public void Sweep_forgets_quiet_clients_but_keeps_bans_and_unban_lifts_one()
    {
        var detector = Create(max: 1);
        detector.Record("quiet", out _);
        detector.Record("loud", out _);
        detector.Record("loud", out _);
        _time.Advance(TimeSpan.FromSeconds(61));
        detector.Sweep();
        Assert.Equal(1, detector.TrackedCount);

        Assert.True(detector.Unban("loud"));
        Assert.Null(detector.Record("loud", out _));
        Assert.False(detector.Unban("nobody"));
    }

    [Fact]
    public void Zero_disables_detection()
    {
        var detector = Create(max: 0);
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(detector.Record("c", out _));
        }

        Assert.Equal(0, detector.TrackedCount);
    }
}
