using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Protocol.Mqtt;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// MQTT uplinks through the traffic table (docs/traffic.md, "MQTT uplinks"): a PUBLISH whose topic matches an uplink
/// rule of the table in force is routed as an MLP call of its publisher would be (the uid of the authenticated MQTT
/// identity, the client id as device id, an MQTT 5 user property <c>mlp-load-test</c> as the load-test mark: failover,
/// gray rules, blue/green and the load-test group apply) and joins the bounded queue of its rule, zone and group, which
/// a loop sends in batches (<see cref="TrafficUplinkQueue"/>). The broker's seam (<see cref="IMqttUplink"/>).
/// </summary>
internal sealed class TrafficUplinks : IMqttUplink, IHostedService, IDisposable
{
    private static readonly string[] Reasons = ["none", "shard", "override", "failover", "site_least_outstanding", "load_test", "cookie"];

    private readonly TrafficTableStore _store;
    private readonly TrafficOptions _options;
    private readonly ConcurrentDictionary<TrafficUplinkKey, TrafficUplinkQueue> _queues = new();
    private readonly Lock _creating = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    public TrafficUplinks(TrafficTableStore store, TrafficUplinkSender sender, TrafficMetrics metrics, IOptions<TrafficOptions> options, TimeProvider time, ILogger<TrafficUplinks> logger)
    {
        _store = store;
        _options = options.Value;
        Sender = sender;
        Metrics = metrics;
        Time = time;
        Logger = logger;
    }

    public TrafficUplinkSender Sender { get; }

    public TrafficMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public bool IsEnabled => _store.IsEnabled;

    public bool HasRules => _store.Current is { Table.Uplinks.Count: > 0 };

    /// <summary>The queues made so far (one per rule, zone, group and load-test mark routed to).</summary>
    public IReadOnlyCollection<TrafficUplinkQueue> Queues => (IReadOnlyCollection<TrafficUplinkQueue>)_queues.Values;

    public bool Matches(string topic) => _store.Current?.Table.UplinkFor(topic) is not null;

    public MqttUplinkVerdict Offer(IMqttUplinkPublisher publisher, string topic, in MqttPublishPacket publish)
    {
        if (_store.Current is not { } version || version.Table.UplinkFor(topic) is not { } rule)
        {
            return MqttUplinkVerdict.None;
        }

        var uid = publisher.Uid;
        if (rule.RequireUid && uid is null)
        {
            return Refuse(publisher, topic, publish.QualityOfService, rule, "no_uid", "the rule requires an authenticated uid");
        }

        var query = new TrafficQuery(rule.Service, uid, publisher.ClientId, LoadTest: IsLoadTest(publish));
        var decision = version.Table.Resolve(query, version.Site);
        if (decision.Zone is not { } zone)
        {
            return Refuse(publisher, topic, publish.QualityOfService, rule, "no_zone", $"no zone of site {version.Site.Name} is up");
        }

        if (decision.Endpoints is not { } endpoints)
        {
            return Refuse(publisher, topic, publish.QualityOfService, rule, "no_service", $"zone {zone.Name} has no service {rule.Service}");
        }

        var key = new TrafficUplinkKey(rule.Name, zone.Name, decision.Group!, decision.Reason == TrafficReason.LoadTest);
        var queue = QueueFor(key, version, rule, zone, endpoints);
        var message = new TrafficUplinkMessage(
            publisher, publisher.ClientId, publisher.UserName, uid, topic, publish.Payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : publish.Payload.ToArray(),
            publish.QualityOfService, publish.PacketId, publish.Dup, publish.Retain, Time.GetUtcNow(), Time.GetTimestamp(), Reasons[(int)decision.Reason], decision.GrayRule);
        if (!queue.TryAdd(message))
        {
            Metrics.UplinkMessages.Add(1, TrafficMetrics.Tag("rule", rule.Name), TrafficMetrics.Tag("result", "queue_full"));
            if (publish.QualityOfService == MqttQualityOfService.AtMostOnce)
            {
                Metrics.UplinkDropped.Add(1, TrafficMetrics.Tag("rule", rule.Name), TrafficMetrics.Tag("reason", "queue_full"));
            }

            return MqttUplinkVerdict.QueueFull;
        }

        Metrics.UplinkMessages.Add(1, TrafficMetrics.Tag("rule", rule.Name), TrafficMetrics.Tag("result", "queued"));
        return rule.AlsoPublish ? MqttUplinkVerdict.ForwardAndPublish : MqttUplinkVerdict.Forward;
    }

    /// <summary>An MQTT 5 user property <c>mlp-load-test</c> of <c>1</c> or <c>true</c>, as the MLP request header.</summary>
    private static bool IsLoadTest(in MqttPublishPacket publish)
    {
        if (publish.UserPropertyCount == 0)
        {
            return false;
        }

        foreach (var property in publish.UserProperties)
        {
            if (property.Name.Length == TrafficHeaders.LoadTest.Length && Encoding.UTF8.GetString(property.Name) == TrafficHeaders.LoadTest)
            {
                return property.Value.Length <= 4 && Encoding.UTF8.GetString(property.Value) is "1" or "true";
            }
        }

        return false;
    }

    private MqttUplinkVerdict Refuse(IMqttUplinkPublisher publisher, string topic, MqttQualityOfService qos, TrafficUplinkRule rule, string reason, string why)
    {
        Metrics.UplinkMessages.Add(1, TrafficMetrics.Tag("rule", rule.Name), TrafficMetrics.Tag("result", "refused"));
        if (qos == MqttQualityOfService.AtMostOnce)
        {
            Metrics.UplinkDropped.Add(1, TrafficMetrics.Tag("rule", rule.Name), TrafficMetrics.Tag("reason", reason));
        }

        TrafficLog.UplinkRefused(Logger, publisher.ClientId, topic, rule.Name, why);
        return MqttUplinkVerdict.Refused;
    }

    private TrafficUplinkQueue QueueFor(in TrafficUplinkKey key, TrafficTableVersion version, TrafficUplinkRule rule, TrafficZone zone, string[] endpoints)
    {
        if (!_queues.TryGetValue(key, out var queue))
        {
            lock (_creating)
            {
                if (!_queues.TryGetValue(key, out queue))
                {
                    // One per rule, zone, group and mark of some applied table: bounded by the tables, not by publishers.
                    queue = new TrafficUplinkQueue(key, new TrafficUplinkTarget(version, rule, zone, endpoints, zone.Services[rule.Service]), this, _options);
                    _queues[key] = queue;
                    _loops.Add(Task.Run(() => RunQueueAsync(queue)));
                    return queue;
                }
            }
        }

        if (!ReferenceEquals(queue.Target.Version, version))
        {
            // A newer table routed here: its endpoints from the next attempt on.
            queue.Target = new TrafficUplinkTarget(version, rule, zone, endpoints, zone.Services[rule.Service]);
        }

        return queue;
    }

    private async Task RunQueueAsync(TrafficUplinkQueue queue)
    {
        try
        {
            await queue.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: what is unsettled is never acknowledged, and its publishers send it again.
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] loops;
        lock (_creating)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stopping.Dispose();
}
