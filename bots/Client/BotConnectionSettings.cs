using System.Net;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Bots.Client;

/// <summary>How every client of one run reaches the broker.</summary>
public sealed record BotConnectionSettings
{
    public required IPEndPoint Broker { get; init; }

    /// <summary>Server name for TLS (SNI and certificate check).</summary>
    public string TargetHost { get; init; } = "localhost";

    public MqttProtocolVersion Version { get; init; } = MqttProtocolVersion.V311;

    public bool Tls { get; init; }

    /// <summary>Accept any server certificate (self-signed test brokers).</summary>
    public bool Insecure { get; init; }

    public ushort KeepAliveSeconds { get; init; } = 60;

    /// <summary>QoS 1/2 publishes a client keeps unacknowledged at once.</summary>
    public int Inflight { get; init; } = 32;

    public int MaxPacketSize { get; init; } = 1024 * 1024;

    /// <summary>
    /// Zero: clean sessions. Otherwise persistent sessions: MQTT 5 sends this Session Expiry Interval (clean start
    /// on the first connect, resumed on a reconnect); MQTT 3.1.1 sends clean session 0.
    /// </summary>
    public uint SessionExpirySeconds { get; init; }

    /// <summary>Idle connections hand their receive buffer back to the pool (the conn scenario).</summary>
    public bool ReleaseBuffersWhenIdle { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// SO_SNDBUF of each socket; 0 leaves the kernel's autotuning (on Linux up to <c>net.ipv4.tcp_wmem</c>'s
    /// maximum, 4 MiB by default). Bounds what an unpaced publisher keeps queued in its own kernel: with
    /// autotuning, a broker that reads slower than the bot writes finds megabytes of warm-up messages ahead of
    /// every measured one, and the measured ones arrive seconds after the run (counted as not delivered).
    /// </summary>
    public int SendBufferBytes { get; init; }
}
