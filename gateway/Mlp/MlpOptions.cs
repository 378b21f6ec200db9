using System.ComponentModel.DataAnnotations;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Gateway.Mlp;

/// <summary>The <c>Mlp</c> configuration section: the mobile link protocol listener, its limits, auth, pushes and dictionaries.</summary>
public sealed class MlpOptions
{
    public const string SectionName = "Mlp";

    /// <summary>Plain-TCP MLP listener port. 0 disables it (WebSocket on the HTTP port still works).</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 7000;

    /// <summary>
    /// MLP over TLS (the <c>Tls</c> section's certificates): on the epoll engine through OpenSSL, else on Kestrel.
    /// 0 (the default) disables it; it also needs <c>Tls:CertificatePath</c>.
    /// </summary>
    [Range(0, 65535)]
    public int TlsPort { get; set; }

    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>HMAC key (UTF-8 text) for device tokens with key id 0. Empty: only anonymous clients (when allowed).</summary>
    public string TokenSecret { get; set; } = string.Empty;

    /// <summary>Further token keys by key id, for rotation: <c>Mlp:TokenSecrets:1=...</c>.</summary>
    public Dictionary<string, string> TokenSecrets { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Accept HELLOs without a device token; the device id is taken as given and the user id is empty.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>Secret the resume-ticket key is derived from. Empty: a random key per process (tickets die with it).</summary>
    public string TicketSecret { get; set; } = string.Empty;

    [Range(0, 30 * 24 * 3600)]
    public int TicketLifetimeSeconds { get; set; } = 24 * 3600;

    /// <summary>Seconds a new connection has to send a complete HELLO.</summary>
    [Range(1, 3600)]
    public int HandshakeTimeoutSeconds { get; set; } = 10;

    [Range(MlpLimits.DefaultMaxFrameSize, MlpLimits.AbsoluteMaxFrameSize)]
    public int MaxFrameSize { get; set; } = MlpLimits.DefaultMaxFrameSize;

    [Range(MlpLimits.DefaultMaxBodySize, MlpLimits.AbsoluteMaxBodySize)]
    public int MaxBodySize { get; set; } = MlpLimits.DefaultMaxBodySize;

    /// <summary>Our HPACK decoder's table limit (client-to-server blocks), announced in WELCOME.</summary>
    [Range(MlpLimits.DefaultHpackTableSize, MlpLimits.MaxHpackTableSize)]
    public int HpackTableSize { get; set; } = MlpLimits.DefaultHpackTableSize;

    /// <summary>Largest decoded header list of one REQUEST (Σ 32 + name + value); above it is HEADER_COMPRESSION_ERROR.</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxHeaderListSize { get; set; } = 16 * 1024;

    /// <summary>Our HPACK encoder's own table cap for server-to-client blocks (the client's announced size bounds it too).</summary>
    [Range(0, MlpLimits.MaxHpackTableSize)]
    public int ResponseHpackTableSize { get; set; } = MlpLimits.DefaultHpackTableSize;

    [Range(MlpLimits.DefaultMaxConcurrentStreams, 100_000)]
    public int MaxConcurrentStreams { get; set; } = MlpLimits.DefaultMaxConcurrentStreams;

    /// <summary>Sequenced pushes sent and not yet acknowledged, per connection.</summary>
    [Range(1, 65535)]
    public int PushWindow { get; set; } = MlpLimits.DefaultPushWindow;

    /// <summary>Pushes kept per device (sent-unacknowledged plus waiting); the oldest waiting ones are dropped past it.</summary>
    [Range(1, 1_000_000)]
    public int MaxQueuedPushes { get; set; } = 1000;

    /// <summary>Bytes of pushes kept per device (body plus headers); the oldest waiting ones are dropped past it, and a single push larger than it is refused.</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long MaxQueuedPushBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Bytes of pushes kept by the whole store; past it new pushes are refused (507), nobody's queue is evicted.</summary>
    [Range(64 * 1024, long.MaxValue)]
    public long MaxPushStoreBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>Devices the push store keeps state for; a push to an unknown device past it is refused (507). Connecting devices always get their state.</summary>
    [Range(1, 100_000_000)]
    public int MaxPushDevices { get; set; } = 200_000;

    /// <summary>Pushes of an offline device older than this are dropped; an offline device idle this long is forgotten (its session cannot be resumed).</summary>
    public TimeSpan PushExpiry { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Frames queued for one connection's writer before it is closed as a slow consumer.</summary>
    [Range(16, 1_000_000)]
    public int MaxOutboundQueue { get; set; } = 1000;

    /// <summary>Heartbeat policy sent in WELCOME (seconds); idle connections are closed after <see cref="IdleTimeoutSeconds"/>.</summary>
    [Range(1, 3600)]
    public int HeartbeatIntervalSeconds { get; set; } = 60;

    [Range(1, 3600)]
    public int HeartbeatMinIntervalSeconds { get; set; } = 30;

    [Range(1, 7200)]
    public int HeartbeatMaxIntervalSeconds { get; set; } = 300;

    [Range(1, 3600)]
    public int HeartbeatProbeStepSeconds { get; set; } = 30;

    [Range(1, 100)]
    public int HeartbeatProbeSuccessCount { get; set; } = 3;

    [Range(1, 600)]
    public int PongTimeoutSeconds { get; set; } = 10;

    /// <summary>Nothing received for this long closes the connection (GOAWAY HEARTBEAT_TIMEOUT); kept ≥ max interval + pong timeout.</summary>
    [Range(2, 86400)]
    public int IdleTimeoutSeconds { get; set; } = 330;

    /// <summary>
    /// Floor of TCP's retransmission timeout on MLP sockets (the MLP listeners and the device HTTP port, which carries the
    /// WebSocket link and the fallback): <c>TCP_RTO_MIN_US</c>, Linux 6.15 or later. A lost segment is resent after about
    /// SRTT + max(4 × RTTVAR, this) instead of the kernel's SRTT + 200 ms. <c>00:00:00</c> leaves the kernel's default; set values
    /// lie within 5–200 ms. Below the peer's delayed ACK (40 ms on Linux and Android, more elsewhere) an ACK the peer holds back
    /// can be taken for a loss: a spurious retransmission of one small segment, which the kernel detects and undoes (F-RTO).
    /// An older kernel without the option logs that once and keeps its default. Default off (<c>00:00:00</c>): on the lab's lossy
    /// path 50 ms gained nothing beyond noise and doubled the retransmission timeouts (docs/benchmarks-weak-network.md), so it is opt-in.
    /// </summary>
    public TimeSpan TcpRtoMin { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// <c>TCP_THIN_LINEAR_TIMEOUTS</c> on MLP sockets (Linux): while a connection has fewer than four segments in flight (an RPC
    /// link nearly always), its first six retransmission timeouts do not double. Default false (opt-in, like <see cref="TcpRtoMin"/>).
    /// </summary>
    public bool TcpThinLinearTimeouts { get; set; }

    /// <summary>Folder of <c>*.dict</c> zstd dictionaries (id from each header); the highest id is the one recommended.</summary>
    public string DictionaryPath { get; set; } = string.Empty;

    /// <summary>zstd level for response and push bodies.</summary>
    [Range(1, 19)]
    public int CompressionLevel { get; set; } = 3;

    /// <summary>Bodies shorter than this are sent plain.</summary>
    [Range(0, 1024 * 1024)]
    public int MinCompressSize { get; set; } = 64;

    /// <summary>Backend deadline when the request has no <c>timeout-ms</c> header (and the ceiling when it has one).</summary>
    [Range(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// How long after a copy of a call (the <c>mlp-call-id</c> header, docs/protocol.md §6.1) was answered with a status below 500
    /// a later copy gets that answer without a backend call; while the call runs, copies join it whatever the window.
    /// Default 10 s: a hedge leaves one expected latency after its first copy and a resend follows a reconnect on a lossy path,
    /// both within seconds of the answer; longer keeps answers (memory) no copy asks for. <c>00:00:00</c> turns coalescing off
    /// (no header is looked at; WELCOME says 0).
    /// </summary>
    public TimeSpan CallCoalescingWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Calls running or answers kept by the coalescer; past it a new call is invoked as without the header (and counted).</summary>
    [Range(1, 100_000_000)]
    public int CallCoalescingMaxCalls { get; set; } = 100_000;

    /// <summary>Bytes of kept answers (body + 32 + name + value per header); past it an answer is not kept and a new call is not coalesced (counted).</summary>
    [Range(0, long.MaxValue)]
    public long CallCoalescingMaxBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The built-in <c>echo</c> service (returns the request body); for tests and benchmarks.</summary>
    public bool EnableEcho { get; set; } = true;

    /// <summary>Where a drain sends MLP clients, as <c>host:port</c> (TCP) or <c>ws://host:port/path</c>; empty: reconnect to the same endpoints (the load balancer picks another node).</summary>
    public List<string> DrainEndpoints { get; set; } = [];

    /// <summary>How long a drained client waits before reconnecting (GOAWAY retry-after).</summary>
    [Range(0, 3_600_000)]
    public int DrainRetryAfterMs { get; set; } = 1000;

    /// <summary>Backend services by name: <c>Mlp:Routes:orders:Url=http://127.0.0.1:5005/</c>.</summary>
    public Dictionary<string, MlpRouteOptions> Routes { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One backend service behind the gateway.</summary>
public sealed class MlpRouteOptions
{
    /// <summary>Base URL; a request for operation <c>op</c> is POSTed to <c>{Url}/{op}</c>.</summary>
    [Required]
    public string Url { get; set; } = string.Empty;

    /// <summary>Use HTTP/2 without TLS (h2c, prior knowledge) instead of HTTP/1.1.</summary>
    public bool Http2 { get; set; }

    /// <summary>Backend deadline for this service; 0 means <see cref="MlpOptions.RequestTimeoutSeconds"/>.</summary>
    [Range(0, 3600)]
    public int TimeoutSeconds { get; set; }
}
