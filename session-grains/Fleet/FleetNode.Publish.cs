using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.Sessions.Store;

namespace AccessLayer.SessionGrains.Fleet;

/// <summary>The per-message side: plan from the local replica, forward in batches, append durably.</summary>
internal sealed partial class FleetNode
{
    private static readonly TimeSpan RoomWait = TimeSpan.FromSeconds(5);

    // Durable appends not committed yet, so a node resuming a session can wait for them before it reads Redis.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _durableInFlight = new();
    private long _durableSequence;

    public bool TryPlan(string topic, string? publisherClientId, MqttQualityOfService qos, bool retain, PublishPlan plan)
    {
        plan.Clear();
        if (!IsEnabled)
        {
            return false;
        }

        plan.Retain = retain;
        _routes.MatchNodes(topic, plan.NodeMatches);
        for (var i = 0; i < plan.NodeMatches.Count; i++)
        {
            var match = plan.NodeMatches[i];
            var local = string.Equals(match.ClientId, _nodeId, StringComparison.Ordinal);
            if (match.ShareGroup is { } group)
            {
                if (local)
                {
                    plan.AddLocalGroup(group);
                }
                else
                {
                    (plan.Target(match.ClientId).Groups ??= []).Add(group);
                }
            }
            else if (!local)
            {
                plan.Target(match.ClientId).Plain = true;
            }
        }

        if (retain)
        {
            // Every node keeps every retained message: the ones without a subscriber get it to store.
            foreach (var peer in _peers.Keys)
            {
                plan.Target(peer);
            }
        }

        if (qos != MqttQualityOfService.AtMostOnce && _durable is not null)
        {
            _routes.MatchDurable(topic, publisherClientId, plan.DurableMatches);
            for (var i = 0; i < plan.DurableMatches.Count; i++)
            {
                if (plan.DurableMatches[i].MaximumQualityOfService != MqttQualityOfService.AtMostOnce)
                {
                    plan.DurableId = Guid.CreateVersion7();
                    break;
                }
            }
        }

        return plan.Peers.Count > 0 || plan.DurableId != Guid.Empty;
    }

    public async ValueTask ForwardAsync(PublishPlan plan, MqttApplicationMessage message, string? publisherClientId, TimeSpan backPressureWait)
    {
        foreach (var (node, target) in plan.Peers)
        {
            if (!_peers.TryGetValue(node, out var peer))
            {
                continue;
            }

            // The plan (and its group lists) is reused by the next publish; the queued message keeps its own copy.
            var forwarded = new ForwardedMessage(message, publisherClientId, target.Plain, target.Groups is { Count: > 0 } groups ? groups.ToArray() : [], plan.DurableId);
            if (peer.Forwarder.TryEnqueue(forwarded))
            {
                if (peer.Forwarder.IsPressing && backPressureWait > TimeSpan.Zero)
                {
                    // The peer (or a subscriber behind it) is slow: the publisher stops here, as it would for a local subscriber.
                    _metrics.ForwardPaused();
                    await peer.Forwarder.WaitForRoomAsync(backPressureWait).ConfigureAwait(false);
                }
            }
            else
            {
                if (message.QualityOfService == MqttQualityOfService.AtMostOnce)
                {
                    _metrics.ForwardDropped(1, "queue_full");
                    continue;
                }

                await peer.Forwarder.WaitForRoomAsync(RoomWait).ConfigureAwait(false);
                if (!peer.Forwarder.TryEnqueue(forwarded))
                {
                    _metrics.ForwardDropped(1, "queue_full");
                }
            }
        }

        if (plan.DurableId != Guid.Empty && _durable is not null)
        {
            StartDurable(plan, message);
            if (await plan.DurableWrite!.ConfigureAwait(false) is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
    }

    public void StartDurable(PublishPlan plan, MqttApplicationMessage message)
    {
        if (plan.DurableId != Guid.Empty && _durable is not null)
        {
            plan.DurableWrite ??= AppendDurableAsync(plan, message);
        }
    }

    public void Acknowledge(string clientId, Guid durableId)
    {
        if (_durable is null || durableId == Guid.Empty)
        {
            return;
        }

        _ = AcknowledgeAsync(clientId, durableId);
    }

    /// <summary>A batch a peer forwarded: each message goes to the local protocols, never on to another node.</summary>
    public async Task DeliverBatchAsync(ReadOnlyMemory<byte> batch)
    {
        IReadOnlyList<ForwardedMessage> messages;
        try
        {
            messages = FleetCodec.ReadBatch(batch);
        }
        catch (FleetCodecException ex)
        {
            FleetLog.BadBatch(_logger, ex);
            return;
        }

        _metrics.Received(messages.Count);
        var detached = new ForwardedMessage[messages.Count];
        for (var i = 0; i < detached.Length; i++)
        {
            detached[i] = messages[i] with { Message = Detach(messages[i].Message) };
        }

        await Local.DeliverForwardedAsync(detached).ConfigureAwait(false);
    }

    /// <summary>
    /// The decoded payload and correlation data are slices of the whole batch: a message that waits in an offline queue
    /// would keep the batch (up to <c>Fleet:ForwardBatchBytes</c>) alive. Each message gets its own copies.
    /// </summary>
    private static MqttApplicationMessage Detach(MqttApplicationMessage message) => new()
    {
        Topic = message.Topic,
        Payload = message.Payload.ToArray(),
        QualityOfService = message.QualityOfService,
        Retain = message.Retain,
        PayloadFormatIndicator = message.PayloadFormatIndicator,
        MessageExpiryInterval = message.MessageExpiryInterval,
        ContentType = message.ContentType,
        ResponseTopic = message.ResponseTopic,
        CorrelationData = message.CorrelationData.IsEmpty ? ReadOnlyMemory<byte>.Empty : message.CorrelationData.ToArray(),
        UserProperties = message.UserProperties,
    };

    /// <summary>Completes once the durable appends in flight now are committed (or failed).</summary>
    public Task FlushDurableAsync()
    {
        var pending = _durableInFlight.Values.ToArray();
        return pending.Length == 0 ? Task.CompletedTask : Task.WhenAll(pending).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Registers the write as in flight and queues one append per durable subscriber before it returns (nothing here reads
    /// <paramref name="plan"/> after the first await), so <see cref="FlushDurableAsync"/> waits for it from the start.
    /// Never faults: the failure is the result, for the publish to answer, so a caller that failed before awaiting leaves
    /// no unobserved exception.
    /// </summary>
    private async Task<Exception?> AppendDurableAsync(PublishPlan plan, MqttApplicationMessage message)
    {
        var key = Interlocked.Increment(ref _durableSequence);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _durableInFlight[key] = done.Task;
        try
        {
            await Task.WhenAll(QueueAppends(plan, message)).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
        finally
        {
            _durableInFlight.TryRemove(key, out _);
            done.TrySetResult();
        }
    }

    private List<Task> QueueAppends(PublishPlan plan, MqttApplicationMessage message)
    {
        // One entry per subscriber: the delivery as that subscriber gets it (its QoS, retain-as-published, subscription ids).
        var appends = new List<Task>(plan.DurableMatches.Count);
        for (var i = 0; i < plan.DurableMatches.Count; i++)
        {
            var match = plan.DurableMatches[i];
            var qos = message.QualityOfService < match.MaximumQualityOfService ? message.QualityOfService : match.MaximumQualityOfService;
            if (qos == MqttQualityOfService.AtMostOnce)
            {
                continue;
            }

            var ids = plan.DurableMatches.GetSubscriptionIdentifiers(match);
            var delivery = new MessageDelivery
            {
                Message = message,
                QualityOfService = qos,
                Retain = match.RetainAsPublished && message.Retain,
                SubscriptionIdentifiers = ids.IsEmpty ? [] : ids.ToArray(),
                DurableId = plan.DurableId,
            };
            appends.Add(_durable!.AppendAsync([match.ClientId], plan.DurableId, FleetCodec.EncodeDelivery(delivery)).AsTask());
        }

        return appends;
    }

    private async Task AcknowledgeAsync(string clientId, Guid durableId)
    {
        try
        {
            await _durable!.AcknowledgeAsync(clientId, durableId).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Left in Redis: delivered again (a duplicate, which QoS 1 allows) if the session moves.
            FleetLog.DurableFailed(_logger, clientId, ex.Message);
        }
    }

}
