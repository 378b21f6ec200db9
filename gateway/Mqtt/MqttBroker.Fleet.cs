using System.Collections.Concurrent;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.SessionGrains.Sessions;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// The broker in a fleet (<c>Fleet:Redis</c> set): sessions claimed through their grain at CONNECT and
/// resumed from wherever they were, subscriptions recorded per SUBSCRIBE/UNSUBSCRIBE, publishes
/// forwarded along the replicated route table, peers' forwards delivered here. Alone, none of it runs.
/// </summary>
internal sealed partial class MqttBroker
{
    private static readonly TimeSpan FleetReadyWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FleetClaimPatience = TimeSpan.FromSeconds(15);

    // Marks a message as if a peer had forwarded it for this node's plain subscribers: it goes nowhere else.
    private static readonly ForwardedMessage LocalOnly = new(new MqttApplicationMessage { Topic = "$local" }, null, PlainSubscribers: true, [], Guid.Empty);

    private readonly IFleet _fleet;
    private readonly bool _fleetEnabled;

    // Client id → the session grain epoch this node holds it at (fleet mode only).
    private readonly FleetEpochs _fleetEpochs = new();

    // Client ids whose session queue, when full, let deliveries go that Redis keeps for them (EnqueueResult.DeferredCount).
    private readonly ConcurrentDictionary<string, byte> _durableDeferred = new(StringComparer.Ordinal);

    public IFleet Fleet => _fleet;

    /// <summary>Routes a message to this node's subscribers only, never to the fleet (this node's own <c>$SYS/broker/...</c>).</summary>
    public ValueTask<int> PublishLocalAsync(MqttApplicationMessage message) =>
        RouteAsync(message, default, message.Topic, publisherClientId: null, publisher: null, LocalOnly);

    /// <summary>A publish a peer forwarded: retained here if retained, delivered to what the peer picked this node for.</summary>
    public ValueTask<int> DeliverForwardedAsync(ForwardedMessage forwarded, IPressureNotes? pressure = null) =>
        RouteAsync(forwarded.Message, default, forwarded.Message.Topic, forwarded.PublisherClientId, pressure, forwarded);

    /// <summary>
    /// Another node claimed <paramref name="clientId"/>'s session: the connection here (if any) is told 0x8E and closed,
    /// and the session leaves this node with everything it holds.
    /// </summary>
    public async ValueTask<SessionHandover?> HandOverAsync(string clientId)
    {
        using var span = MqttSpans.StartHandover(clientId);
        if (_clients.TryGetValue(clientId, out var connection))
        {
            using var takeover = MqttSpans.StartTakeover(clientId, "another_node");
            MqttLog.SessionTakenOver(_logger, clientId);
            Metrics.Disconnects.Add(1, new KeyValuePair<string, object?>("reason", "taken_over"));
            connection.SendDisconnect(MqttReasonCode.SessionTakenOver, "Another connection took over the session.");
            connection.RequestClose("session taken over by another node", takenOver: true);
            _clients.TryRemove(new KeyValuePair<string, MqttConnection>(clientId, connection));
        }

        _fleetEpochs.TryRemove(clientId, out long _);
        _durableDeferred.TryRemove(clientId, out _);
        var state = await Sessions.GetAsync(clientId).ConfigureAwait(false);
        if (state is null)
        {
            return null;
        }

        var queued = new List<MessageDelivery>();
        try
        {
            var batch = await Sessions.DequeueAsync(new SessionToken(clientId, state.Epoch), int.MaxValue).ConfigureAwait(false);
            foreach (var message in batch.Messages)
            {
                queued.Add(message.Delivery);
            }
        }
        catch (SessionTakenOverException)
        {
            // Reopened here meanwhile: what it queued stays with the reopened session until that one is handed over too.
        }

        await Sessions.RemoveAsync(clientId).ConfigureAwait(false);
        await Router.RemoveClientAsync(clientId).ConfigureAwait(false);
        if (state.IsConnected && state.Will is { } will && (will.DelayInterval == 0 || state.SessionExpiryInterval == 0))
        {
            // 3.1.4: the server closes the old connection; its will goes out when its delay is 0 or its session ends with it
            // (a delayed will of a continuing session is cancelled by the new connection, 3.1.3.2.2).
            MqttLog.WillPublished(_logger, clientId, will.Message.Topic);
            await PublishAsync(will.Message, publisherClientId: null).ConfigureAwait(false);
        }

        return new SessionHandover
        {
            Owner = state.Owner,
            SessionExpiryInterval = state.SessionExpiryInterval,
            Will = state.Will,
            Subscriptions = state.Subscriptions,
            Inflight = state.Inflight,
            Queued = queued,
            IncomingAwaitingRelease = state.IncomingAwaitingRelease,
        };
    }

    /// <summary>The session of <paramref name="clientId"/> ended on this node: the fleet forgets it (grain, durable queue, durable rows).</summary>
    public async ValueTask EndInFleetAsync(string clientId)
    {
        _durableDeferred.TryRemove(clientId, out _);
        if (!_fleetEnabled || !_fleetEpochs.TryRemove(clientId, out var epoch))
        {
            return;
        }

        try
        {
            await _fleet.EndSessionAsync(clientId, epoch).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MqttLog.FleetCallFailed(_logger, clientId, "end session", ex.Message);
        }
    }

    /// <summary>Claims the session through its grain, under a <c>fleet.session.claim</c> span.</summary>
    private async ValueTask<SessionClaim?> ClaimInFleetAsync(string clientId, bool cleanStart, string? owner, uint expiryInterval, WillMessage? will)
    {
        var span = MqttSpans.StartFleetClaim(clientId);
        SessionClaim? claim = null;
        try
        {
            claim = await ClaimWithPatienceAsync(clientId, cleanStart, owner, expiryInterval, will).ConfigureAwait(false);
            return claim;
        }
        finally
        {
            MqttSpans.EndFleetClaim(span, claim);
        }
    }

    /// <summary>
    /// Claims the session, retrying for a while: right after a node dies, calls whose grain (or grain directory entry)
    /// lived there fail until membership declares it dead (about 10 s); the CONNECT waits rather than being refused.
    /// </summary>
    private async ValueTask<SessionClaim?> ClaimWithPatienceAsync(string clientId, bool cleanStart, string? owner, uint expiryInterval, WillMessage? will)
    {
        var started = Time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await _fleet.Ready.WaitAsync(FleetReadyWait).ConfigureAwait(false);
                return await _fleet.ClaimSessionAsync(clientId, cleanStart, owner, expiryInterval, will).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                if (Time.GetElapsedTime(started) + delay > FleetClaimPatience)
                {
                    MqttLog.FleetCallFailed(_logger, clientId, "claim session", ex.Message);
                    return null;
                }
            }

            await Task.Delay(delay, Time).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
        }
    }

    /// <summary>Brings what the session held on another node (or in Redis) into the local session; true when there was something.</summary>
    private async ValueTask<bool> ImportFromFleetAsync(SessionToken token, SessionClaim claim, bool cleanStart)
    {
        _fleetEpochs.Set(token.ClientId, claim.Epoch);
        if (cleanStart || claim.Resumed is not { } resumed)
        {
            return false;
        }

        {
            foreach (var subscription in resumed.Subscriptions)
            {
                await Router.SubscribeAsync(token.ClientId, subscription.TopicFilter, subscription.Options).ConfigureAwait(false);
                await Sessions.SetSubscriptionAsync(token, subscription).ConfigureAwait(false);
            }

            foreach (var packetId in resumed.IncomingAwaitingRelease)
            {
                await Sessions.AddIncomingAsync(token, packetId).ConfigureAwait(false);
            }

            foreach (var inflight in resumed.Inflight)
            {
                // Sent again under a new packet id (QoS 1 allows the duplicate). A QoS 2 message the client already
                // received (awaiting PUBCOMP) is not: its PUBREL has no packet id here to travel with.
                if (inflight.State != OutgoingState.AwaitingPubComp)
                {
                    CountEnqueue(token.ClientId, await Sessions.EnqueueAsync(token.ClientId, inflight.Delivery).ConfigureAwait(false));
                }
            }

            foreach (var queued in resumed.Queued)
            {
                CountEnqueue(token.ClientId, await Sessions.EnqueueAsync(token.ClientId, queued).ConfigureAwait(false));
            }
        }

        // Read only now that the subscriptions route here: anything published from here on arrives forwarded.
        foreach (var durable in await _fleet.LoadDurableAsync(token.ClientId, resumed).ConfigureAwait(false))
        {
            CountEnqueue(token.ClientId, await Sessions.EnqueueAsync(token.ClientId, durable).ConfigureAwait(false));
        }

        await SaveFleetSubscriptionsAsync(token).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// After SUBSCRIBE/UNSUBSCRIBE (and a resume) of a persistent session: its grain records the subscriptions, and its
    /// QoS 1/2 ones become durable rows. A session that ends with its connection (expiry 0) records none: no node
    /// resumes it from Redis (a live node hands its subscriptions over), and a grain call per SUBSCRIBE costs an activation.
    /// </summary>
    private async ValueTask SaveFleetSubscriptionsAsync(SessionToken token)
    {
        if (!_fleetEpochs.TryGet(token.ClientId, out var epoch)
            || await Sessions.GetAsync(token.ClientId).ConfigureAwait(false) is not { SessionExpiryInterval: > 0 } state)
        {
            return;
        }

        try
        {
            await _fleet.SaveSubscriptionsAsync(token.ClientId, epoch, state.Subscriptions).ConfigureAwait(false);
            var durable = new List<Subscription>();
            foreach (var subscription in state.Subscriptions)
            {
                if (subscription.Options.MaximumQualityOfService != MqttQualityOfService.AtMostOnce
                    && !MqttTopic.TryParseSharedSubscription(subscription.TopicFilter, out _, out _))
                {
                    durable.Add(subscription);
                }
            }

            await _fleet.SetDurableSubscriptionsAsync(token.ClientId, durable.Count == 0 ? null : durable).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MqttLog.FleetCallFailed(_logger, token.ClientId, "save subscriptions", ex.Message);
        }
    }

    /// <summary>A connection closed after another node claimed its session: whatever is left here goes, and the fleet is not told (the session lives on there).</summary>
    private async ValueTask<bool> SettleFencedAsync(string clientId)
    {
        if (!_fleetEpochs.TryGet(clientId, out var epoch) || !_fleet.IsFenced(clientId, epoch))
        {
            return false;
        }

        _fleetEpochs.TryRemove(clientId, epoch);
        await Sessions.RemoveAsync(clientId).ConfigureAwait(false);
        await Router.RemoveClientAsync(clientId).ConfigureAwait(false);
        return true;
    }

    /// <summary>Whether a local match is this node's to deliver: shared groups only when the fleet round robin picked this node.</summary>
    private static bool IsForThisNode(in SubscriberMatch match, PublishPlan? plan, ForwardedMessage? forwarded)
    {
        if (forwarded is not null)
        {
            return match.ShareGroup is { } group ? Contains(forwarded.ShareGroups, group) : forwarded.PlainSubscribers;
        }

        return match.ShareGroup is not { } localGroup || plan is null || plan.IsLocalGroup(localGroup);
    }

    private async ValueTask ForwardToFleetAsync(PublishPlan plan, MqttApplicationMessage message, string? publisherClientId)
    {
        try
        {
            await _fleet.ForwardAsync(plan, message, publisherClientId, Limits.PublisherBackPressureWait).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not MqttProtocolException)
        {
            // The durable write did not happen: no PUBACK may go out for this message. The client sends it again after reconnecting.
            MqttLog.FleetCallFailed(_logger, publisherClientId ?? "-", "durable append", ex.Message);
            throw new MqttProtocolException(MqttReasonCode.ServerBusy, "The fleet could not store the message durably; send it again.");
        }
    }

    private void DeferDurable(string clientId, int count)
    {
        Metrics.DurableDeferred.Add(count);
        _durableDeferred.TryAdd(clientId, 0);
    }

    /// <summary>
    /// A connection found its session queue empty. If the queue had let durable deliveries go when it was full, they come
    /// back from Redis now (as many as fit; the rest the next time it runs empty), so a connected session loses none.
    /// </summary>
    internal void OnSessionQueueEmpty(SessionToken token)
    {
        if (!_durableDeferred.IsEmpty && _durableDeferred.TryRemove(token.ClientId, out _))
        {
            _ = ReloadDeferredAsync(token);
        }
    }

    private async Task ReloadDeferredAsync(SessionToken token)
    {
        try
        {
            if (await Sessions.GetAsync(token.ClientId).ConfigureAwait(false) is not { } state || state.Epoch != token.Epoch)
            {
                return;
            }

            // What is in flight stays there; what is queued now (live since the queue ran empty) may come twice, as QoS 1 allows.
            var skip = new HashSet<Guid>();
            foreach (var inflight in state.Inflight)
            {
                skip.Add(inflight.Delivery.DurableId);
            }

            var deliveries = await _fleet.ReloadDurableAsync(token.ClientId, skip).ConfigureAwait(false);
            var room = Math.Max(1, Options.MaxQueuedMessages - state.QueuedMessageCount);
            _clients.TryGetValue(token.ClientId, out var connection);
            for (var i = 0; i < deliveries.Count; i++)
            {
                if (i == room)
                {
                    _durableDeferred.TryAdd(token.ClientId, 0);
                    break;
                }

                var result = await Sessions.EnqueueAsync(token.ClientId, deliveries[i]).ConfigureAwait(false);
                CountEnqueue(token.ClientId, result);
                connection?.OnSessionEnqueued(result);
            }

            connection?.RequestDrain();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Tried again the next time its queue runs empty.
            MqttLog.FleetCallFailed(_logger, token.ClientId, "reload deferred durable messages", ex.Message);
            _durableDeferred.TryAdd(token.ClientId, 0);
        }
    }

    private static bool Contains(IReadOnlyList<string> groups, string group)
    {
        for (var i = 0; i < groups.Count; i++)
        {
            if (string.Equals(groups[i], group, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
