using System.ComponentModel.DataAnnotations;

namespace AccessLayer.SessionGrains.Hosting;

/// <summary>
/// The <c>Fleet</c> configuration section. Without <see cref="Redis"/> the node runs alone: an
/// Orleans silo on localhost clustering with in-memory grain state, and the broker calls no
/// grain. With it the node joins the fleet named <see cref="ClusterId"/> through that Redis.
/// </summary>
public sealed class FleetOptions
{
    public const string SectionName = "Fleet";

    /// <summary>Redis for membership, session grain state and durable QoS 1 queues, <c>host:port</c> (StackExchange.Redis syntax). Unset: one node, no Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>Name of the fleet; nodes with the same id and Redis form one cluster.</summary>
    [Required]
    public string ClusterId { get; set; } = "accesslayer";

    /// <summary>Node-to-node (silo) port. Several nodes on one host need different ports.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Address the node advertises to its peers (and binds the silo port on).</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>Endpoint devices should be sent to for MQTT on this node (drain server reference from peers), <c>host:port</c>. Default: the advertised address and <c>Mqtt:Port</c>.</summary>
    public string? MqttEndpoint { get; set; }

    /// <summary>Endpoint for MLP on this node (GOAWAY endpoints from peers), <c>host:port</c>. Default: the advertised address and <c>Mlp:Port</c>.</summary>
    public string? MlpEndpoint { get; set; }

    /// <summary>
    /// Silo liveness probe timeout. With <see cref="MissedProbesLimit"/> it bounds how soon a killed node is
    /// declared dead: about <c>ProbeTimeout × MissedProbesLimit</c> plus one probe period (≈ 10 s by default; Orleans' own default is about a minute).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:01:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes after which a peer suspects a node.</summary>
    [Range(1, 10)]
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>Messages per node-to-node forward batch at most (a batch holds what queued while the previous one was out).</summary>
    [Range(1, 65536)]
    public int ForwardBatchMessages { get; set; } = 512;

    /// <summary>Payload bytes per forward batch before it is sent.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int ForwardBatchBytes { get; set; } = 256 * 1024;

    /// <summary>Messages waiting for one peer past which QoS 0 forwards are dropped (counted) and QoS 1/2 publishers wait.</summary>
    [Range(1, 10_000_000)]
    public int ForwardQueueMessages { get; set; } = 100_000;

    /// <summary>
    /// Port of this node's forward links (peers send it their publishes over a TCP connection each, on the advertised
    /// address). 0: any free port, advertised to the peers; -1: no links, peers forward through Orleans calls.
    /// </summary>
    [Range(-1, 65535)]
    public int ForwardPort { get; set; }

    /// <summary>Longest a route change waits for peers to apply it before SUBACK (a slow peer catches up from a snapshot).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RouteReplicationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public bool IsEnabled => !string.IsNullOrWhiteSpace(Redis);
}
