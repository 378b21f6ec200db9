using AccessLayer.Gateway.Governance;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class FlappingDetectorTests
{
    private const string Address = "192.0.2.1";

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
            Assert.Null(detector.Record("c", Address, out _));
        }

        Assert.Equal(TimeSpan.FromMinutes(5), detector.Record("c", Address, out var newly));
        Assert.True(newly);
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(TimeSpan.FromMinutes(3), detector.Record("c", Address, out newly));
        Assert.False(newly);
        Assert.Equal("c", Assert.Single(detector.Bans()).ClientId);

        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Null(detector.Record("c", Address, out _));
        Assert.Empty(detector.Bans());
    }

    [Fact]
    public void The_window_restarts_after_it_passes()
    {
        var detector = Create();
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(detector.Record("c", Address, out _));
            Assert.Null(detector.Record("c", Address, out _));
            _time.Advance(TimeSpan.FromSeconds(61));
        }
    }

    [Fact]
    public void Sweep_forgets_quiet_clients_but_keeps_bans_and_unban_lifts_one()
    {
        var detector = Create(max: 1);
        detector.Record("quiet", Address, out _);
        detector.Record("loud", Address, out _);
        detector.Record("loud", Address, out _);
        _time.Advance(TimeSpan.FromSeconds(61));
        detector.Sweep();
        Assert.Equal(1, detector.TrackedCount);

        Assert.True(detector.Unban("loud"));
        Assert.Null(detector.Record("loud", Address, out _));
        Assert.False(detector.Unban("nobody"));
    }

    [Fact]
    public void A_client_id_is_counted_per_source_address_so_connects_from_elsewhere_do_not_ban_it()
    {
        var detector = Create(max: 3);
        for (var i = 0; i < 10; i++)
        {
            detector.Record("device", "198.51.100." + i.ToString(System.Globalization.CultureInfo.InvariantCulture), out _);
            detector.Record("device", "203.0.113.7", out _);
        }

        // The noisy address is banned; the device's own address has not connected yet and is not.
        Assert.NotNull(detector.BannedFor("device", "203.0.113.7"));
        Assert.Null(detector.BannedFor("device", Address));
        Assert.Null(detector.Record("device", Address, out _));
        var ban = Assert.Single(detector.Bans());
        Assert.Equal(("device", "203.0.113.7"), (ban.ClientId, ban.Address));
    }

    [Fact]
    public void Looking_up_a_ban_counts_nothing()
    {
        var detector = Create(max: 1);
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(detector.BannedFor("c", Address));
        }

        Assert.Null(detector.Record("c", Address, out _));
        Assert.Empty(detector.Bans());
    }

    [Fact]
    public void Detection_is_off_by_default()
    {
        var detector = new FlappingDetector(Options.Create(new LimitsOptions()), _time);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(detector.Record("suite-client", Address, out _));
        }

        Assert.False(detector.IsEnabled);
    }

    [Fact]
    public void Zero_disables_detection()
    {
        var detector = Create(max: 0);
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(detector.Record("c", Address, out _));
        }

        Assert.Equal(0, detector.TrackedCount);
    }
}
