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

    /// <summary>
    /// Serve the MQTT listener with the lean transport (gateway/Transport): a PipeReader/PipeWriter
    /// straight over the socket with no Pipe and no per-connection loops, so an idle connection holds
    /// far less memory. HTTP keeps Kestrel's socket transport either way.
    /// </summary>
    public bool LeanMqtt { get; set; }
}
