using System.Diagnostics.Metrics;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Tests.Governance;

public sealed class MemoryWatermarkTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Probe _probe = new();

    private MemoryWatermark Create(LimitsOptions limits) =>
        new(_probe, Options.Create(limits), new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()), NullLogger<MemoryWatermark>.Instance);

    [Fact]
    public void Crossing_the_high_mark_overloads_and_only_the_low_mark_recovers()
    {
        var watermark = Create(new LimitsOptions { MemoryHighWatermarkBytes = 1000 });
        Assert.False(watermark.IsOverloaded);
        _probe.UsedBytes = 1000;
        watermark.Sample();
        Assert.True(watermark.IsOverloaded);
        _probe.UsedBytes = 901;
        watermark.Sample();
        Assert.True(watermark.IsOverloaded);
        _probe.UsedBytes = 899;
        watermark.Sample();
        Assert.False(watermark.IsOverloaded);
    }

    [Fact]
    public void The_percentage_applies_to_the_available_memory_and_zero_disables_the_check()
    {
        _probe.AvailableBytes = 10_000;
        Assert.Equal(9_000, Create(new LimitsOptions()).HighWatermarkBytes);
        var off = Create(new LimitsOptions { MemoryHighWatermarkPercent = 0 });
        _probe.UsedBytes = long.MaxValue;
        off.Sample();
        Assert.False(off.IsOverloaded);
    }

    public void Dispose() => _services.Dispose();

    private sealed class Probe : IProcessMemoryProbe
    {
        public long UsedBytes { get; set; }

        public long AvailableBytes { get; set; } = 1L << 40;
    }
}
