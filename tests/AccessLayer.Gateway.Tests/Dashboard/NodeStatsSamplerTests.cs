using AccessLayer.Gateway.Dashboard;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Gateway.Tests.Dashboard;

/// <summary>Samples on the clock (a fake one here), rates from the time that really passed, history bounded by the options.</summary>
public sealed class NodeStatsSamplerTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SettableCounters _counters = new();
    private readonly ServiceProvider _services;
    private readonly NodeStatsSampler _sampler;

    public NodeStatsSamplerTests()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new DashboardOptions { SampleInterval = TimeSpan.FromSeconds(1), History = TimeSpan.FromSeconds(30) });
        _sampler = new NodeStatsSampler(_counters, options, _time, new GatewayMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), NullLogger<NodeStatsSampler>.Instance);
    }

    [Fact]
    public void A_sample_holds_the_gauges_as_read_and_each_total_s_growth_per_second()
    {
        _sampler.SampleOnce();
        _counters.Reading = _counters.Reading with { MqttTcp = 7, MqttTls = 2, MqttWebSocket = 1, Mlp = 3, ConnectsAccepted = 10, MessagesIn = 500, MessagesOut = 1500, BackPressurePauses = 4 };
        _time.Advance(TimeSpan.FromSeconds(1));
        _sampler.SampleOnce();

        var sample = Assert.Single(_sampler.Ring.Since(DateTimeOffset.MinValue));
        Assert.Equal((7, 2, 1, 3), (sample.MqttTcp, sample.MqttTls, sample.MqttWebSocket, sample.Mlp));
        Assert.Equal(10, sample.ConnectsPerSecond);
        Assert.Equal(500, sample.MessagesInPerSecond);
        Assert.Equal(1500, sample.MessagesOutPerSecond);
        Assert.Equal(4, sample.BackPressurePausesPerSecond);
        Assert.Equal(_time.GetUtcNow(), sample.At);
    }

    [Fact]
    public void A_late_tick_divides_by_the_time_that_passed_so_it_shows_no_spike()
    {
        _sampler.SampleOnce();
        _counters.Reading = _counters.Reading with { MessagesIn = 3000 };
        // A tick delayed to 3 s (a GC pause, a busy pool): 3,000 messages in 3 s is 1,000/s, not 3,000/s.
        _time.Advance(TimeSpan.FromSeconds(3));
        _sampler.SampleOnce();

        Assert.Equal(1000, Assert.Single(_sampler.Ring.Since(DateTimeOffset.MinValue)).MessagesInPerSecond);
    }

    [Fact]
    public void Drops_and_evictions_are_summed_over_their_reasons_and_the_totals_keep_each_reason()
    {
        _sampler.SampleOnce();
        _counters.Reading = _counters.Reading with
        {
            DropsByReason = new Dictionary<string, long> { ["queue_full"] = 6, ["slow_consumer"] = 4 },
            EvictionsByReason = new Dictionary<string, long> { ["admin_kick"] = 2 },
        };
        _time.Advance(TimeSpan.FromSeconds(2));
        _sampler.SampleOnce();

        var sample = Assert.Single(_sampler.Ring.Since(DateTimeOffset.MinValue));
        Assert.Equal(5, sample.DropsPerSecond);
        Assert.Equal(1, sample.EvictionsPerSecond);
        var stats = _sampler.Stats("node-a", DateTimeOffset.MinValue);
        Assert.Equal(2, stats.EvictionsByReason["admin_kick"]);
        Assert.Equal(6, stats.DropsByReason["queue_full"]);
    }

    [Fact]
    public void A_total_that_went_down_counts_as_no_growth_rather_than_a_negative_rate()
    {
        _counters.Reading = _counters.Reading with { MessagesOut = 100 };
        _sampler.SampleOnce();
        _counters.Reading = _counters.Reading with { MessagesOut = 40 };
        _time.Advance(TimeSpan.FromSeconds(1));
        _sampler.SampleOnce();

        Assert.Equal(0, Assert.Single(_sampler.Ring.Since(DateTimeOffset.MinValue)).MessagesOutPerSecond);
    }

    [Fact]
    public async Task Running_it_samples_once_per_interval_of_the_clock_and_keeps_only_the_history()
    {
        await _sampler.StartAsync(CancellationToken.None);
        for (var second = 1; second <= 45; second++)
        {
            _counters.Reading = _counters.Reading with { MessagesIn = second * 10L };
            _time.Advance(TimeSpan.FromSeconds(1));
            var ticked = await WaitForAsync(() => _sampler.Ring.Since(_time.GetUtcNow().AddTicks(-1)).Length == 1);
            // The host starts the loop on the pool: its timer may be created after the first advance, then the
            // first tick comes a second later (and covers two seconds). Every later second must tick.
            Assert.True(ticked || second == 1, $"no sample at second {second}");
        }

        await _sampler.StopAsync(CancellationToken.None);
        var kept = _sampler.Ring.Since(DateTimeOffset.MinValue);
        // History 30 s at 1 s: 30 samples, the last 30 seconds, each 10 messages/s.
        Assert.Equal(30, kept.Length);
        Assert.Equal(_time.GetUtcNow(), kept[^1].At);
        Assert.Equal(_time.GetUtcNow().AddSeconds(-29), kept[0].At);
        Assert.All(kept, s => Assert.Equal(10, s.MessagesInPerSecond));
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _services.Dispose();
    }

    private static async Task<bool> WaitForAsync(Func<bool> condition)
    {
        // The tick runs on the pool after the fake clock fires; bounded.
        for (var i = 0; i < 250 && !condition(); i++)
        {
            await Task.Delay(4);
        }

        return condition();
    }

    private sealed class SettableCounters : IGatewayCounters
    {
        public CounterReading Reading { get; set; } = new(0, 0, 0, 0, 0, 0, 0, 0, new Dictionary<string, long>(), new Dictionary<string, long>(), 100_000_000, 20_000_000);

        public CounterReading Read() => Reading;
    }
}
