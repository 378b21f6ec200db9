using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Hosting;

/// <summary>The <c>Mqtt</c> configuration section. Defaults follow what EMQX and Mosquitto ship with.</summary>
public sealed class MqttOptions
{
    public const string SectionName = "Mqtt";

    /// <summary>Plain-TCP MQTT listener port. 0 disables the listener.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 1883;

    /// <summary>MQTT over TLS listener port; used only when <c>Tls:CertificatePath</c> is set. 0 disables it.</summary>
    [Range(0, 65535)]
    public int TlsPort { get; set; } = 8883;

    /// <summary>Address the MQTT listener binds; "*" or "0.0.0.0" for every interface.</summary>
    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>Largest packet (fixed header included) accepted from a client; larger ones are refused from the header alone. 5.0 clients are told via CONNACK.</summary>
    [Range(64, 268_435_460)]
    public int MaxPacketSize { get; set; } = 1024 * 1024;

    /// <summary>Outgoing QoS 1/2 messages unacknowledged at once per client (5.0: bounded further by the client's receive maximum).</summary>
    [Range(1, 65535)]
    public int MaxInflight { get; set; } = 32;

    /// <summary>Messages kept per session while the client is offline or its inflight window is full; the oldest are dropped (and counted) past it.</summary>
    [Range(1, 10_000_000)]
    public int MaxQueuedMessages { get; set; } = 1000;

    /// <summary>Subscriptions one session may hold; a SUBSCRIBE filter past it gets 0x97 Quota exceeded (3.1.1: 0x80). 0: no bound.</summary>
    [Range(0, 10_000_000)]
    public int MaxSubscriptionsPerClient { get; set; } = 1000;

    /// <summary>Whether QoS 0 messages are queued for offline persistent sessions (Mosquitto: queue_qos0_messages).</summary>
    public bool QueueQos0Messages { get; set; }

    /// <summary>Receive maximum the broker announces to 5.0 clients: QoS 1/2 PUBLISHes a client may have unacknowledged towards us.</summary>
    [Range(1, 65535)]
    public int ReceiveMaximum { get; set; } = 128;

    /// <summary>Topic aliases a 5.0 client may use towards the broker (0 disables).</summary>
    [Range(0, 65535)]
    public int TopicAliasMaximum { get; set; } = 64;

    /// <summary>Largest session expiry interval (seconds) the broker grants; longer requests are cut to this.</summary>
    [Range(0, uint.MaxValue)]
    public long MaxSessionExpiryInterval { get; set; } = 2 * 60 * 60;

    /// <summary>
    /// Longest keep alive (seconds) granted, mosquitto's <c>max_keepalive</c>: a 5.0 client asking for more, or for 0, is told
    /// Server Keep Alive = this and held to it; a 5.0 client asking for less keeps its own. A 3.1.1 client cannot be told, so it
    /// keeps what it asked for (mosquitto refuses it instead). 0 (the default) sets no maximum.
    /// </summary>
    [Range(0, 65535)]
    public int MaxKeepAlive { get; set; }

    /// <summary>When set, replaces the keep alive of every 5.0 client (server keep alive), whatever it asked for; 0 (the default) uses <see cref="MaxKeepAlive"/> instead.</summary>
    [Range(0, 65535)]
    public int ServerKeepAlive { get; set; }

    /// <summary>Keep alive enforced when a client asks for 0 (no keep alive); 0 leaves such clients unchecked.</summary>
    [Range(0, 65535)]
    public int DefaultKeepAlive { get; set; }

    /// <summary>Seconds a connection may take to send CONNECT before it is closed.</summary>
    [Range(1, 3600)]
    public int ConnectTimeoutSeconds { get; set; } = 10;

    /// <summary>Longest client id accepted.</summary>
    [Range(1, 65535)]
    public int MaxClientIdLength { get; set; } = 256;

    /// <summary>Outbound packets queued per connection before the writer is considered behind (slow consumer).</summary>
    [Range(16, 1_000_000)]
    public int MaxOutboundQueue { get; set; } = 1000;

    /// <summary>Users allowed to connect; empty means anyone may connect (anonymous allowed).</summary>
    public Dictionary<string, string> Users { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Whether clients without a user name are accepted when <see cref="Users"/> is not empty.</summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>Interval of the $SYS/broker/... topics, in seconds; 0 disables them.</summary>
    [Range(0, 86400)]
    public int SysInterval { get; set; } = 10;
}
