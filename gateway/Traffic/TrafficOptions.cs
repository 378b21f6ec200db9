using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The <c>Traffic</c> section: the traffic table this node routes MLP calls by (docs/traffic.md). Without
/// <see cref="TableFile"/> no table is loaded and <c>Mlp:Routes</c> routes every call, as before.
/// </summary>
public sealed class TrafficOptions
{
    public const string SectionName = "Traffic";

    /// <summary>The table file (YAML or JSON), loaded at start and watched; empty: no table.</summary>
    public string? TableFile { get; set; }

    /// <summary>The site this node belongs to; required with a table, and every table applied must name it.</summary>
    public string? Site { get; set; }

    /// <summary>The secret every gateway shares: zone cookies and forwards between sites are signed with keys derived from it (at least 16 characters).</summary>
    public string? Secret { get; set; }

    /// <summary>Whether the table file is watched; with <c>false</c> it is read at start and changed by the admin API only.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>How often the file's size, time and link target are looked at.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the file must stay unchanged after a change before it is read (an editor or a deploy still writing it).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Earlier versions kept for roll back.</summary>
    [Range(1, 1000)]
    public int History { get; set; } = 10;

    /// <summary>How far apart two gateways' clocks may be for a forward between sites to be accepted (its signature is dated).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ForwardClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times an idempotent call that found its endpoint unreachable or unavailable (502, 503) is tried on another endpoint of its group, within its deadline.</summary>
    [Range(0, 3)]
    public int Retries { get; set; } = 1;

    /// <summary>Failed calls (5xx, unreachable, timed out) in a row after which an endpoint is ejected.</summary>
    [Range(1, 1000)]
    public int OutlierConsecutiveFailures { get; set; } = 5;

    /// <summary>How long an ejected endpoint gets no calls.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan OutlierEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The path health checks <c>GET</c> on each backend endpoint of the site (e.g. <c>/healthz</c>); empty: no health checks.</summary>
    public string? HealthCheckPath { get; set; }

    /// <summary>How often every endpoint is checked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a check may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed checks in a row after which an endpoint gets no calls (until a check passes).</summary>
    [Range(1, 100)]
    public int HealthCheckFailures { get; set; } = 2;

    /// <summary>A port at <c>Http:BindAddress</c> for other sites' gateways: site links (a site with <c>link: true</c> in the table names it in its <c>gateways</c>) and cleartext HTTP/2 (h2c, prior knowledge; a site with <c>http2: true</c>); 0: none.</summary>
    [Range(0, 65535)]
    public int ForwardPort { get; set; }

    /// <summary>
    /// Whether long-link clients whose zone lives in another site are told where that site is (the site's <c>endpoints</c>
    /// in the table): <c>Off</c>; <c>Hint</c>: WELCOME names them (<c>home_endpoints</c>) for the client's next connect;
    /// <c>Redirect</c>: also, once the link's first call has been forwarded and answered, GOAWAY <c>REDIRECT</c> to them.
    /// Calls are forwarded until the client moves, and for clients that do not.
    /// </summary>
    public TrafficSteer Steer { get; set; } = TrafficSteer.Off;

    /// <summary>Calls of one site link (from another site's gateway, on <see cref="ForwardPort"/>) served at once; past it the link is not read until one ends.</summary>
    [Range(1, 100_000)]
    public int LinkMaxCalls { get; set; } = 1000;

    /// <summary>MQTT uplinks: the most messages in one batch posted to a backend.</summary>
    [Range(1, 10_000)]
    public int UplinkBatchSize { get; set; } = 100;

    /// <summary>MQTT uplinks: the most payload and topic bytes in one batch (a single larger message goes alone).</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int UplinkBatchBytes { get; set; } = 256 * 1024;

    /// <summary>MQTT uplinks: how long the first message of a batch waits for others before the batch is sent (zero: at once).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan UplinkLinger { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>MQTT uplinks: messages one queue (rule, zone, group) holds, queued and in flight; past it QoS 0 is dropped and QoS 1 refused.</summary>
    [Range(1, 1_000_000)]
    public int UplinkQueueLength { get; set; } = 10_000;

    /// <summary>MQTT uplinks: payload and topic bytes one queue holds, queued and in flight.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long UplinkQueueBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>MQTT uplinks: how long a backend has to answer a batch before the attempt counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan UplinkTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>MQTT uplinks: the wait before a failed batch is sent again; doubled after each failure up to <see cref="UplinkRetryDelayMax"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan UplinkRetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>MQTT uplinks: the longest wait between two attempts of a batch.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan UplinkRetryDelayMax { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsEnabled => !string.IsNullOrEmpty(TableFile);
}

/// <summary>What a gateway tells a long-link client whose zone lives in another site (<see cref="TrafficOptions.Steer"/>).</summary>
public enum TrafficSteer
{
    Off,
    Hint,
    Redirect,
}
