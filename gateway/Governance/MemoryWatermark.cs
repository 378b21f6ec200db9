using AccessLayer.Gateway.Metrics;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>How much memory the process uses and may use. Replaced in tests.</summary>
internal interface IProcessMemoryProbe
{
    /// <summary>Memory the process holds now (working set).</summary>
    long UsedBytes { get; }

    /// <summary>Memory available to the process (physical memory or the container limit).</summary>
    long AvailableBytes { get; }
}

internal sealed class ProcessMemoryProbe : IProcessMemoryProbe
{
    public long UsedBytes => Environment.WorkingSet;

    public long AvailableBytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
}

/// <summary>
/// The memory watermark: sampled once a second by maintenance, never on the CONNECT path. Past
/// the high watermark new CONNECTs are refused (5.0: CONNACK 0x89 Server busy); they are taken
/// again once memory falls under 90% of it, so the node does not flap at the line.
/// </summary>
internal sealed class MemoryWatermark
{
    private readonly IProcessMemoryProbe _probe;
    private readonly ILogger<MemoryWatermark> _logger;
    private volatile bool _overloaded;
    private long _lastUsed;

    public MemoryWatermark(IProcessMemoryProbe probe, IOptions<LimitsOptions> options, GatewayMetrics metrics, ILogger<MemoryWatermark> logger)
    {
        _probe = probe;
        _logger = logger;
        var limits = options.Value;
        HighWatermarkBytes = limits.MemoryHighWatermarkBytes > 0
            ? limits.MemoryHighWatermarkBytes
            : limits.MemoryHighWatermarkPercent > 0 ? probe.AvailableBytes / 100 * limits.MemoryHighWatermarkPercent : 0;
        metrics.ObserveGauge("gateway.memory.overloaded", () => _overloaded ? 1 : 0, "1 while new connections are refused for memory.");
        metrics.ObserveGauge("gateway.memory.used", () => Volatile.Read(ref _lastUsed), "Process working set at the last sample.", "By");
        Sample();
    }

    /// <summary>0 when the check is off.</summary>
    public long HighWatermarkBytes { get; }

    public long LowWatermarkBytes => HighWatermarkBytes / 10 * 9;

    public bool IsOverloaded => _overloaded;

    public void Sample()
    {
        if (HighWatermarkBytes <= 0)
        {
            return;
        }

        var used = _probe.UsedBytes;
        Volatile.Write(ref _lastUsed, used);
        if (!_overloaded && used >= HighWatermarkBytes)
        {
            _overloaded = true;
            GovernanceLog.MemoryHigh(_logger, used, HighWatermarkBytes);
        }
        else if (_overloaded && used < LowWatermarkBytes)
        {
            _overloaded = false;
            GovernanceLog.MemoryRecovered(_logger, used, LowWatermarkBytes);
        }
    }
}
