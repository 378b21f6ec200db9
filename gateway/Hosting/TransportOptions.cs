namespace AccessLayer.Gateway.Hosting;

/// <summary>The <c>Transport</c> configuration section: how Kestrel's socket transport runs connection code.</summary>
public sealed class TransportOptions
{
    public const string SectionName = "Transport";

    /// <summary>
    /// Run connection code on the socket's I/O thread instead of hopping to the thread pool
    /// (Kestrel's UnsafePreferInlineScheduling). Off by default: on 2 cores under load it measured
    /// worse p90/p99 delivery latency than thread-pool scheduling (bench/side-by-side latency rows).
    /// </summary>
    public bool InlineScheduling { get; set; }
}
