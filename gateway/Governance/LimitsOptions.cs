using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Governance;

/// <summary>
/// The <c>Limits</c> section: connection governance. Every limit can be switched off with 0;
/// defaults protect a node without getting in the way of a load test from one address.
/// </summary>
public sealed class LimitsOptions
{
    public const string SectionName = "Limits";

    /// <summary>Time from accept to CONNECT; unset uses <c>Mqtt:ConnectTimeoutSeconds</c>. Also bounds the TLS handshake.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan? HandshakeTimeout { get; set; }

    /// <summary>Open client connections on the node, every listener together.</summary>
    [Range(0, int.MaxValue)]
    public int MaxConnections { get; set; } = 1_000_000;

    /// <summary>Open connections per listener, by name (tcp, tls, ws, wss); a missing name is bounded only by <see cref="MaxConnections"/>.</summary>
    public Dictionary<string, int> MaxConnectionsPerListener { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>New connections per second from one IP address (token bucket refill); 0 disables the limit.</summary>
    [Range(0, 1_000_000)]
    public int ConnectRatePerIp { get; set; }

    /// <summary>Connections one IP address may open at once before the rate applies; 0 means the rate itself.</summary>
    [Range(0, 1_000_000)]
    public int ConnectBurstPerIp { get; set; }

    /// <summary>
    /// Authenticated CONNECTs of one client id from one source address within <see cref="FlappingWindow"/> that make it
    /// a flapping client; 0 (the default, as in EMQX) disables detection, so reconnect-heavy clients and test suites are never banned.
    /// </summary>
    [Range(0, 100_000)]
    public int FlappingMaxConnects { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FlappingWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a flapping client (client id and source address) is banned (5.0: CONNACK 0x8A; 3.1.1: closed).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan FlappingBanDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>PUBLISH packets per second one client may send (token bucket refill); 0 disables. Past it, 5.0: DISCONNECT 0x96.</summary>
    [Range(0, 10_000_000)]
    public int PublishRate { get; set; }

    /// <summary>PUBLISH packets a client may send at once before the rate applies; 0 means the rate itself.</summary>
    [Range(0, 10_000_000)]
    public int PublishBurst { get; set; }

    /// <summary>PUBLISH bytes per second one client may send; 0 disables. Past it, 5.0: DISCONNECT 0x97.</summary>
    [Range(0, long.MaxValue)]
    public long PublishByteRate { get; set; }

    /// <summary>PUBLISH bytes a client may send at once; 0 means one second of <see cref="PublishByteRate"/>.</summary>
    [Range(0, long.MaxValue)]
    public long PublishByteBurst { get; set; }

    /// <summary>Process memory (working set) past which new CONNECTs are refused (5.0: CONNACK 0x89) until it falls under 90% of it; 0 uses <see cref="MemoryHighWatermarkPercent"/>.</summary>
    [Range(0, long.MaxValue)]
    public long MemoryHighWatermarkBytes { get; set; }

    /// <summary>The watermark as a percentage of the memory available to the process (container limit included); 0 disables the check.</summary>
    [Range(0, 100)]
    public int MemoryHighWatermarkPercent { get; set; } = 90;

    /// <summary>Bytes of messages queued for one connection's writer; past it QoS 0 deliveries are dropped, at twice it the client is evicted.</summary>
    [Range(4096, long.MaxValue)]
    public long MaxOutboundQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long a connection may stay past its outbound high watermark before it is evicted as a slow consumer.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SlowConsumerGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a publisher's read loop may pause for a subscriber past its high watermark (half of
    /// <c>Mqtt:MaxOutboundQueue</c>, of <see cref="MaxOutboundQueueBytes"/>, or of <c>Mqtt:MaxQueuedMessages</c> for QoS 1/2)
    /// to drain to its low watermark (a quarter); after it the publisher goes on, the usual drops apply, and that subscriber is
    /// not waited for during one wait, doubling (up to 16) while it stays behind. 0 disables back-pressure.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan PublisherBackPressureWait { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>TCP keepalive on accepted sockets, so a peer that vanished without a FIN is found by the kernel.</summary>
    public bool TcpKeepAlive { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan TcpKeepAliveTime { get; set; } = TimeSpan.FromSeconds(60);

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan TcpKeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 100)]
    public int TcpKeepAliveRetryCount { get; set; } = 3;

    /// <summary>SO_SNDBUF of accepted sockets; 0 keeps the kernel's autotuning (which may grow to megabytes per socket). A small fixed buffer bounds what a zombie pins in the kernel.</summary>
    [Range(0, 64 * 1024 * 1024)]
    public int SocketSendBufferBytes { get; set; }

    /// <summary>TCP_USER_TIMEOUT (Linux): sent data unacknowledged this long kills the socket, so a zombie cannot hold its send buffer; 0 leaves the kernel default.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan TcpUserTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
