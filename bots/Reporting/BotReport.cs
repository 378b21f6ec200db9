using System.Text.Json.Serialization;
using AccessLayer.Bots.Metrics;

namespace AccessLayer.Bots.Reporting;

/// <summary>The result of one run, as printed with --json and as a worker child hands it to its parent.</summary>
public sealed class BotReport
{
    public string Scenario { get; set; } = "";

    public string Broker { get; set; } = "";

    public string MqttVersion { get; set; } = "";

    public int Qos { get; set; }

    public int PayloadSize { get; set; }

    public int Publishers { get; set; }

    public int Subscribers { get; set; }

    public int Workers { get; set; } = 1;

    /// <summary>The arguments that reproduce the run.</summary>
    public string Command { get; set; } = "";

    public ConnectionFigures Connections { get; set; } = new();

    public MessageFigures Messages { get; set; } = new();

    /// <summary>Publish-to-receipt latency of measured messages, microseconds.</summary>
    public Percentiles Latency { get; set; } = new();

    public SortedDictionary<string, long> Errors { get; set; } = new(StringComparer.Ordinal);

    public BrokerMemory? BrokerMemory { get; set; }

    /// <summary>MLP scenarios only.</summary>
    public MlpFigures? Mlp { get; set; }

    /// <summary>Raw histograms, only from worker children (the parent merges them).</summary>
    public HistogramData? LatencyHistogram { get; set; }

    public HistogramData? ConnectHistogram { get; set; }
}

public sealed class ConnectionFigures
{
    public int Target { get; set; }

    public long Established { get; set; }

    public long Failed { get; set; }

    /// <summary>Seconds from the first connect attempt to the last CONNACK.</summary>
    public double ConnectSeconds { get; set; }

    /// <summary>Established connections per second over <see cref="ConnectSeconds"/>.</summary>
    public double ConnectRate { get; set; }

    /// <summary>TCP connect to CONNACK, microseconds.</summary>
    public Percentiles ConnectLatency { get; set; } = new();

    /// <summary>Established connections that were lost (not closed by the bots).</summary>
    public long Lost { get; set; }

    /// <summary>Lost connections connected again, to the next broker of the list.</summary>
    public long Reconnects { get; set; }

    /// <summary>TCP connect to CONNACK of the reconnects (the session's takeover on the next broker), microseconds.</summary>
    public Percentiles ReconnectLatency { get; set; } = new();

    /// <summary>Seconds from the first lost connection to the last reconnect (all lost clients resumed when Reconnects equals Lost).</summary>
    public double RecoverySeconds { get; set; }
}

public sealed class MessageFigures
{
    /// <summary>Measured publishes written (after warm-up).</summary>
    public long Published { get; set; }

    public long Acked { get; set; }

    /// <summary>Measured messages received.</summary>
    public long Received { get; set; }

    /// <summary>Receipts the topology implies for <see cref="Published"/> (fan-out multiplies); -1 when unknown.</summary>
    public long Expected { get; set; }

    /// <summary>Expected minus received after the drain, never negative; -1 when unknown.</summary>
    public long Lost { get; set; }

    /// <summary>Seconds of the measured window (warm-up excluded).</summary>
    public double WindowSeconds { get; set; }

    public double PublishRate { get; set; }

    /// <summary>Measured receipts per second from the end of warm-up to the last receipt.</summary>
    public double ReceiveRate { get; set; }
}

public sealed class Percentiles
{
    public long Count { get; set; }

    public long P50 { get; set; }

    public long P90 { get; set; }

    public long P99 { get; set; }

    public long P999 { get; set; }

    public long Max { get; set; }

    public double Mean { get; set; }

    public static Percentiles From(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new Percentiles
        {
            Count = histogram.TotalCount,
            P50 = histogram.ValueAtQuantile(0.50),
            P90 = histogram.ValueAtQuantile(0.90),
            P99 = histogram.ValueAtQuantile(0.99),
            P999 = histogram.ValueAtQuantile(0.999),
            Max = histogram.Max,
            Mean = Math.Round(histogram.Mean, 1),
        };
    }
}

/// <summary>
/// mlp-rpc: Published = calls started after warm-up, Acked = those answered 2xx with the echoed body,
/// Received = answered at all; latency is call start to response. mlp-push: Published = POSTs accepted (202),
/// Received = pushes the devices got (and the SDK acknowledged); latency is POST start to delivery.
/// </summary>
public sealed class MlpFigures
{
    /// <summary>mlp-rpc: which client drove the calls, sdk (MlpClient) or lean (raw socket, pipelined).</summary>
    public string? Client { get; set; }

    public int Concurrency { get; set; }

    /// <summary>mlp-rpc lean: the most calls one connection had in flight at once.</summary>
    public int PeakInFlight { get; set; }

    /// <summary>Measured calls answered per second over the window.</summary>
    public double CallsPerSecond { get; set; }

    /// <summary>REQUEST frame bytes per measured call (TCP: exactly what the socket carried).</summary>
    public double BytesSentPerCall { get; set; }

    public double BytesReceivedPerCall { get; set; }

    /// <summary>mlp-push: one or all.</summary>
    public string? PushTarget { get; set; }

    /// <summary>mlp-push: devices the gateway found connected, summed over the POST answers.</summary>
    public long PushOnline { get; set; }

    /// <summary>mlp-push: pushes the gateway reported dropped in its POST answers.</summary>
    public long PushDropped { get; set; }

    /// <summary>mlp-push: the gateway's mlp_pushes_acknowledged counter over the run (from /metrics); -1 when unreadable.</summary>
    public long GatewayAcks { get; set; } = -1;
}

public sealed class BrokerMemory
{
    public int Pid { get; set; }

    public long RssBeforeKb { get; set; }

    public long RssAfterKb { get; set; }

    public long Connections { get; set; }

    public double KbPerConnection { get; set; }
}

/// <summary>A histogram in transit: non-empty buckets as [index, count] pairs plus the exact min, max and sum.</summary>
public sealed class HistogramData
{
    public long Min { get; set; }

    public long Max { get; set; }

    public long Sum { get; set; }

    public List<long[]> Buckets { get; set; } = [];

    public static HistogramData From(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new HistogramData
        {
            Min = histogram.Min,
            Max = histogram.Max,
            Sum = histogram.Sum,
            Buckets = histogram.NonEmptyBuckets().Select(b => new[] { b.Key, b.Value }).ToList(),
        };
    }

    public LatencyHistogram ToHistogram() =>
        LatencyHistogram.FromBuckets(Buckets.Select(b => new KeyValuePair<int, long>((int)b[0], b[1])), Min, Max, Sum);
}

[JsonSourceGenerationOptions(WriteIndented = false, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BotReport))]
[JsonSerializable(typeof(IntervalReport))]
internal sealed partial class BotJsonContext : JsonSerializerContext;

[JsonSerializable(typeof(string))]
internal sealed partial class BotJsonStrings : JsonSerializerContext;
