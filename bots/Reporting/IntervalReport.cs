namespace AccessLayer.Bots.Reporting;

/// <summary>
/// One --interval line: what happened in the last interval only (a soak reads latency and throughput
/// over time from these). Counts include warm-up traffic; latency is publish (or call) to receipt, µs.
/// </summary>
public sealed class IntervalReport
{
    /// <summary>Wall-clock time (UTC) at the end of this interval, to line runs up with other samples.</summary>
    public DateTimeOffset Time { get; set; }

    /// <summary>Seconds since the run started, at the end of this interval.</summary>
    public double Elapsed { get; set; }

    /// <summary>Length of this interval in seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>What the run was doing at the end of the interval (publishing, draining, ...).</summary>
    public string Phase { get; set; } = "";

    /// <summary>Connections open at the end of the interval.</summary>
    public long Connected { get; set; }

    public long Sent { get; set; }

    public long Received { get; set; }

    public long Errors { get; set; }

    public double SendRate { get; set; }

    public double ReceiveRate { get; set; }

    public Percentiles Latency { get; set; } = new();
}
