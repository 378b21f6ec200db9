using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Hosting;

/// <summary>Which engine serves the plain-TCP MQTT listener.</summary>
public enum TransportEngine
{
    /// <summary>Kestrel's socket transport (the default where epoll is not available).</summary>
    Kestrel,

    /// <summary>gateway/Transport/Epoll: raw fds on a few epoll loops, own accept loop, no Socket per connection (Linux only; the default there).</summary>
    Epoll,
}

/// <summary>The <c>Transport</c> configuration section: how connections are served.</summary>
public sealed class TransportOptions : IValidatableObject
{
    public const string SectionName = "Transport";

    /// <summary>Most epoll loop threads <see cref="EpollLoops"/> = 0 picks.</summary>
    public const int MaxAutoEpollLoops = 4;

    /// <summary>
    /// Run connection code on the socket's I/O thread instead of hopping to the thread pool
    /// (Kestrel's UnsafePreferInlineScheduling). Off by default: on 2 cores under load it measured
    /// worse p90/p99 delivery latency than thread-pool scheduling (bench/side-by-side latency rows).
    /// </summary>
    public bool InlineScheduling { get; set; }

    /// <summary>
    /// Engine of the plain-TCP MQTT listener; unset means Epoll on Linux (a third of Kestrel's memory per
    /// idle connection, one thread hop fewer per message) and Kestrel elsewhere. The epoll engine also serves
    /// the TLS ports Mqtt:TlsPort and Mlp:TlsPort through OpenSSL; WebSocket, MLP over TCP and HTTP always use
    /// Kestrel's socket transport.
    /// </summary>
    public TransportEngine? Engine { get; set; }

    /// <summary>
    /// The lean transport this selected is gone (the epoll engine replaced it); still read so that a
    /// configuration that sets it fails at start instead of silently running another engine.
    /// </summary>
    public bool LeanMqtt { get; set; }

    /// <summary>Epoll loop threads; 0 = one per processor, at most <see cref="MaxAutoEpollLoops"/>.</summary>
    [Range(0, 256)]
    public int EpollLoops { get; set; }

    /// <summary>
    /// Continue a reader/writer waiting for readiness on the epoll loop thread itself (mosquitto-like,
    /// no thread hop) instead of the thread pool. On by default: it is what brings delivery latency to
    /// mosquitto's and adds throughput (docs/benchmarks-transport.md). The broker never blocks a loop:
    /// CONNECT authentication (a password hash, an external check) moves to the thread pool, waits are
    /// asynchronous, sends are non-blocking. Turn it off if custom code blocks on a connection's path.
    /// </summary>
    public bool EpollInlineContinuations { get; set; } = true;

    /// <summary>The engine in effect: <see cref="Engine"/>, else the platform default.</summary>
    public TransportEngine EffectiveEngine => Engine ?? PlatformDefault;

    /// <summary>Epoll on Linux, Kestrel elsewhere.</summary>
    public static TransportEngine PlatformDefault => OperatingSystem.IsLinux() ? TransportEngine.Epoll : TransportEngine.Kestrel;

    /// <summary>Loop threads the epoll engine runs.</summary>
    public int EffectiveEpollLoops => EpollLoops > 0 ? EpollLoops : Math.Clamp(Environment.ProcessorCount, 1, MaxAutoEpollLoops);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (LeanMqtt)
        {
            yield return new ValidationResult("Transport:LeanMqtt was removed: the epoll engine (Transport:Engine=Epoll, the default on Linux) replaced the lean transport; remove the setting.", [nameof(LeanMqtt)]);
        }

        if (Engine is { } set && !Enum.IsDefined(set))
        {
            yield return new ValidationResult($"Transport:Engine must be one of {string.Join(", ", Enum.GetNames<TransportEngine>())}.", [nameof(Engine)]);
        }

        if (Engine == TransportEngine.Epoll && !OperatingSystem.IsLinux())
        {
            yield return new ValidationResult("Transport:Engine=Epoll runs on Linux only.", [nameof(Engine)]);
        }
    }
}
