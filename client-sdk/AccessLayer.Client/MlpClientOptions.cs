using AccessLayer.Client.Dictionaries;
using AccessLayer.Client.Transport;
using AccessLayer.Protocol.Mlp;

namespace AccessLayer.Client;

/// <summary>Everything an <see cref="MlpClient"/> is configured with (docs/sdk.md lists the defaults).</summary>
public sealed class MlpClientOptions
{
    /// <summary>The long link: <c>tcp://host:7000</c>, <c>tls://host:7443</c> or <c>ws://host:8080/mlp</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>
    /// More endpoints of the same service (other nodes, zones or transports), raced with <see cref="Endpoint"/>
    /// Happy-Eyeballs style, in this order after it (docs/sdk.md "Connection establishment"). Either may be empty, not both.
    /// </summary>
    public IList<Uri> Endpoints { get; set; } = [];

    /// <summary>The gateway's HTTP base for the short-connection fallback (<c>http://host:8080/</c>); null disables it.</summary>
    public Uri? HttpFallbackEndpoint { get; set; }

    /// <summary>Stable per app install.</summary>
    public string DeviceId { get; set; } = string.Empty;

    /// <summary>The device token from the account service; may be empty for gateways that allow anonymous devices.</summary>
    public string DeviceToken { get; set; } = string.Empty;

    public string Platform { get; set; } = string.Empty;

    public string AppVersion { get; set; } = string.Empty;

    public string NetworkType { get; set; } = string.Empty;

    /// <summary>Announce zstd support and compress request bodies (with a dictionary when one is shared).</summary>
    public bool EnableCompression { get; set; } = true;

    /// <summary>Bodies shorter than this are sent plain.</summary>
    public int MinCompressSize { get; set; } = 64;

    /// <summary>Our HPACK decoder table (server-to-client blocks), announced in HELLO.</summary>
    public int HpackTableSize { get; set; } = MlpLimits.DefaultHpackTableSize;

    public int MaxFrameSize { get; set; } = MlpLimits.DefaultMaxFrameSize;

    public int MaxBodySize { get; set; } = MlpLimits.DefaultMaxBodySize;

    /// <summary>Deadline of a call when the caller gives none; sent to the gateway as <c>timeout-ms</c>.</summary>
    public TimeSpan DefaultTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest a connect (transport and HELLO/WELCOME) may take; shortened from the measured RTT by dynamic timeouts.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Send a PING when nothing else was sent for a heartbeat interval (the smart heartbeat's, within the server's policy).</summary>
    public bool EnableHeartbeat { get; set; } = true;

    /// <summary>Quality model, dynamic timeouts, fake-connection detection, smart heartbeat, reconnect backoff (docs/sdk.md).</summary>
    public MlpWeakNetworkOptions WeakNetwork { get; set; } = new();

    /// <summary>Handles a PUSH; the client ACKs it once this returns. Exceptions count as processed (logged by the app).</summary>
    public Func<MlpPush, CancellationToken, ValueTask>? OnPush { get; set; }

    public IMlpDictionaryStore Dictionaries { get; set; } = new InMemoryMlpDictionaryStore();

    public IMlpTransportFactory TransportFactory { get; set; } = MlpTransportFactory.Default;

    /// <summary>Used for the HTTP fallback; one is created when null.</summary>
    public HttpClient? HttpClient { get; set; }

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
