using System.Collections.Concurrent;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Hosting;
using AccessLayer.Gateway.Metrics;
using AccessLayer.Gateway.Security;
using AccessLayer.Protocol.Mqtt;
using AccessLayer.SessionGrains.Fleet;
using AccessLayer.SessionGrains.Forwarding;
using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Retained;
using AccessLayer.Sessions.Routing;
using AccessLayer.Sessions.Store;
using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>What the broker granted a client at CONNECT.</summary>
internal readonly record struct MqttClientLimits(int ReceiveMaximum, uint MaximumPacketSize, ushort TopicAliasMaximum);

/// <summary>
/// The broker core of one node: which client is connected on which connection, CONNECT
/// (authentication, session open, takeover), SUBSCRIBE/UNSUBSCRIBE and routing of published
/// messages to live connections or to the sessions of offline clients.
/// </summary>
internal sealed partial class MqttBroker
{
    private readonly MqttConnectionList _connections = new();
    private readonly MqttClientTable _clients = new();
    private readonly IOptionsMonitor<MqttOptions> _options;
    private readonly IMqttAuthenticator _authenticator;
    private readonly MqttGovernance _governance;
    private readonly ILogger<MqttBroker> _logger;

    [ThreadStatic]
    private static SubscriberMatches? t_matches;

    [ThreadStatic]
    private static PublishPlan? t_plan;

    public MqttBroker(
        ISessionStore sessions,
        ISubscriptionRouter router,
        IRetainedMessageStore retained,
        IMqttAuthenticator authenticator,
        GatewayMetrics metrics,
        MqttGovernance governance,
        IFleet fleet,
        IOptionsMonitor<MqttOptions> options,
        TimeProvider time,
        ILogger<MqttBroker> logger,
        IMqttUplink? uplink = null)
    {
        Uplink = uplink;
        _fleet = fleet;
        _fleetEnabled = fleet.IsEnabled;
        Sessions = sessions;
        Router = router;
        Retained = retained;
        Metrics = metrics;
        Time = time;
        _authenticator = authenticator;
        _governance = governance;
        _options = options;
        _logger = logger;
        StartedAt = time.GetUtcNow();
    }

    public ISessionStore Sessions { get; }

    /// <summary>The traffic table's MQTT uplink rules, offered each inbound PUBLISH before the fan-out; null: none.</summary>
    public IMqttUplink? Uplink { get; }

    public ISubscriptionRouter Router { get; }

    public IRetainedMessageStore Retained { get; }

    public GatewayMetrics Metrics { get; }

    public TimeProvider Time { get; }

    public DateTimeOffset StartedAt { get; }

    public MqttOptions Options => _options.CurrentValue;

    public LimitsOptions Limits => _governance.Limits;

    public MqttGovernance Governance => _governance;

    /// <summary>Connections whose CONNECT was accepted, one per client id.</summary>
    public ICollection<MqttConnection> Clients => _clients.Values;

    /// <summary>Every open network connection, CONNECTed or not.</summary>
    public MqttConnectionList Connections => _connections;

    public int ConnectedClientCount => _clients.Count;

    public bool TryGetClient(string clientId, out MqttConnection connection) => _clients.TryGetValue(clientId, out connection!);

    public MqttConnection Accept(Microsoft.AspNetCore.Connections.ConnectionContext transport, ILogger logger)
    {
        var connection = new MqttConnection(transport, this, Options, logger);
        _connections.Add(connection);
        return connection;
    }

    /// <summary>Runs CONNECT. Returns the keep alive to enforce, or null when the CONNECT was refused (CONNACK already queued).</summary>
    public async ValueTask<int?> ConnectAsync(MqttConnection connection, MqttConnectPacket connect)
    {
        var options = Options;
        var v5 = connect.ProtocolVersion == MqttProtocolVersion.V500;
        var clientId = connect.ClientId;
        if (clientId.Length == 0 && !v5 && !connect.CleanStart)
        {
            // 3.1.1 3.1.3.1: a zero-length id needs clean session 1.
            return Refuse(connection, MqttReasonCode.ClientIdentifierNotValid, "An empty client id needs clean session.");
        }

        if (clientId.Length > options.MaxClientIdLength)
        {
            return Refuse(connection, MqttReasonCode.ClientIdentifierNotValid, "Client id too long.");
        }

        if (connect.AuthenticationMethod is not null)
        {
            return Refuse(connection, MqttReasonCode.BadAuthenticationMethod, "Enhanced authentication is not supported.");
        }

        if (_governance.Gate.Check(clientId, connection.RemoteEndPoint) is { } refusal)
        {
            return Refuse(connection, refusal);
        }

        if (!Thread.CurrentThread.IsThreadPoolThread)
        {
            // On an epoll loop thread (inline continuations): a password hash or an external check must
            // not stall every connection of the loop, so the handshake moves to the thread pool once.
            await Task.Yield();
        }

        var authentication = await _authenticator.AuthenticateAsync(
            new MqttAuthenticationContext(clientId, connect.UserName, connect.Password, connection.RemoteEndPoint, connection.ClientCertificate, connection.Listener),
            CancellationToken.None).ConfigureAwait(false);
        if (!authentication.IsAllowed)
        {
            return Refuse(connection, authentication.Result == MqttAuthenticationResult.NotAuthorized ? MqttReasonCode.NotAuthorized : MqttReasonCode.BadUserNameOrPassword, "Authentication failed.");
        }

        string? assignedClientId = null;
        var generatedClientId = false;
        if (authentication.ClientId is { } certifiedClientId && !string.Equals(certifiedClientId, clientId, StringComparison.Ordinal))
        {
            // The credential names the client (a device certificate): it wins over what CONNECT said. Only a
            // client that sent no id is told (clients such as mosquitto treat an unasked-for assigned id as a protocol error).
            assignedClientId = clientId.Length == 0 ? certifiedClientId : null;
            clientId = certifiedClientId;
        }
        else if (clientId.Length == 0)
        {
            // An assigned id satisfies the client id rule, so a user bound to a prefix may still ask for one.
            clientId = assignedClientId = (_governance.ClientIds.PrefixFor(authentication.Identity) ?? string.Empty) + "al-" + Guid.NewGuid().ToString("N");
            generatedClientId = true;
        }

        if (!_governance.ClientIds.Allows(clientId, authentication.Identity))
        {
            return Refuse(connection, MqttReasonCode.ClientIdentifierNotValid, "This client id is not allowed for this user.");
        }

        // Counted only now: an unauthenticated or refused CONNECT cannot get a client id banned.
        if (_governance.Gate.RecordAuthenticated(clientId, connection.RemoteEndPoint) is { } banned)
        {
            return Refuse(connection, banned);
        }

        if (connect.Will is { } will && !MqttTopic.IsValidTopicName(will.Topic))
        {
            return Refuse(connection, MqttReasonCode.TopicNameInvalid, "Invalid will topic.");
        }

        var acl = _governance.Acl.ForClient(clientId, authentication.Identity);
        if (connect.Will is { } aclWill && (SysTopics.IsSys(aclWill.Topic) || !acl.CanPublish(aclWill.Topic)))
        {
            Metrics.AclDenied.Add(1, new KeyValuePair<string, object?>("action", "will"));
            return Refuse(connection, MqttReasonCode.NotAuthorized, "Not authorized to publish the will topic.");
        }

        var maxExpiry = (uint)options.MaxSessionExpiryInterval;
        var sessionExpiry = v5
            ? Math.Min(connect.SessionExpiryInterval, maxExpiry)
            : connect.CleanStart ? 0u : maxExpiry;

        var willMessage = connect.Will is { } w ? new WillMessage(w.ToApplicationMessage(), w.WillDelayInterval) : null;
        SessionClaim? claim = null;
        if (_fleetEnabled && !generatedClientId)
        {
            // An id this broker made up (a random GUID) cannot be held anywhere else: nothing to claim.
            claim = await ClaimInFleetAsync(clientId, connect.CleanStart, authentication.SessionOwner, sessionExpiry, willMessage).ConfigureAwait(false);
            if (claim is null)
            {
                return Refuse(connection, MqttReasonCode.ServerUnavailable, "The fleet could not open the session; try again.");
            }

            if (claim.OwnedByAnotherIdentity)
            {
                MqttLog.SessionOwnedByAnother(connection.Logger, clientId, authentication.Identity);
                return Refuse(connection, MqttReasonCode.NotAuthorized, "The session of this client id belongs to another user.");
            }
        }

        var open = await Sessions.OpenAsync(new SessionConnectRequest
        {
            ClientId = clientId,
            CleanStart = connect.CleanStart,
            SessionExpiryInterval = sessionExpiry,
            Will = willMessage,
            Owner = authentication.SessionOwner,
        }).ConfigureAwait(false);
        if (open.OwnedByAnotherIdentity)
        {
            // Another user's session (live or kept offline): taking it over would hand over its subscriptions and queue.
            MqttLog.SessionOwnedByAnother(connection.Logger, clientId, authentication.Identity);
            return Refuse(connection, MqttReasonCode.NotAuthorized, "The session of this client id belongs to another user.");
        }

        if (open.IsSessionLimitReached)
        {
            Metrics.QuotaExceeded.Add(1, new KeyValuePair<string, object?>("quota", "sessions"));
            return Refuse(connection, MqttReasonCode.QuotaExceeded, "The broker holds its maximum number of sessions.");
        }

        if (!open.SessionPresent)
        {
            // Routes left by a session that was discarded (clean start) or had expired.
            await Router.RemoveClientAsync(clientId).ConfigureAwait(false);
        }

        if (_clients.TryGetValue(clientId, out var previous) && !ReferenceEquals(previous, connection))
        {
            using var takeover = MqttSpans.StartTakeover(clientId, "connect");
            MqttLog.SessionTakenOver(connection.Logger, clientId);
            Metrics.Disconnects.Add(1, new KeyValuePair<string, object?>("reason", "taken_over"));
            previous.SendDisconnect(MqttReasonCode.SessionTakenOver, "Another connection took over the session.");
            previous.RequestClose("session taken over", takenOver: true);
        }

        if (open.WillToPublish is { } takenOverWill)
        {
            await PublishAsync(takenOverWill, publisherClientId: null).ConfigureAwait(false);
        }

        var sessionPresent = open.SessionPresent;
        if (claim is not null && await ImportFromFleetAsync(open.Token, claim, connect.CleanStart).ConfigureAwait(false))
        {
            sessionPresent = true;
        }

        var state = sessionPresent ? await Sessions.GetAsync(clientId).ConfigureAwait(false) : null;
        var keepAlive = KeepAlivePolicy.Negotiate(v5, connect.KeepAliveSeconds, options, out var serverKeepAlive);

        var limits = new MqttClientLimits(
            connect.ReceiveMaximum == 0 ? ushort.MaxValue : connect.ReceiveMaximum,
            v5 ? connect.MaximumPacketSize ?? 0 : 0,
            v5 ? connect.TopicAliasMaximum : (ushort)0);
        connection.ApplyGovernance(acl, authentication.Identity, authentication.Method, connect.CleanStart, _governance.Limits);
        connection.Attach(open.Token, limits, state?.IncomingAwaitingRelease.Count ?? 0, keepAlive);
        if (state is not null)
        {
            await RecheckSubscriptionsAsync(connection, open.Token, state).ConfigureAwait(false);
        }

        // Queue CONNACK and the resume before the client is findable, but write nothing until it
        // is: then no delivery can overtake the CONNACK, and the client is registered by the time
        // it reads its CONNACK.
        connection.HoldWrites();
        connection.Send(OutboundItem.ControlPacket(MqttPacketType.ConnAck, new MqttConnAckPacket
        {
            SessionPresent = sessionPresent,
            ReasonCode = MqttReasonCode.Success,
            SessionExpiryInterval = v5 && sessionExpiry != connect.SessionExpiryInterval ? sessionExpiry : null,
            ReceiveMaximum = (ushort)options.ReceiveMaximum,
            MaximumPacketSize = (uint)options.MaxPacketSize,
            AssignedClientIdentifier = assignedClientId,
            TopicAliasMaximum = (ushort)options.TopicAliasMaximum,
            ServerKeepAlive = serverKeepAlive,
        }));
        connection.Send(OutboundItem.Resume(state));
        _clients[clientId] = connection;
        if (claim is not null && _fleet.IsFenced(clientId, claim.Epoch))
        {
            // Another node claimed the session while this CONNECT ran (two CONNECTs at once): that one wins.
            MqttLog.SessionTakenOver(connection.Logger, clientId);
            connection.SendDisconnect(MqttReasonCode.SessionTakenOver, "Another connection took over the session.");
            connection.RequestClose("session taken over by another node", takenOver: true);
        }

        // The resume drains the session queue, including anything routed there before registration.
        connection.ReleaseWrites();
        Metrics.MqttConnectionOpened();
        MqttLog.ClientConnected(connection.Logger, clientId, connection.RemoteEndPoint, connect.ProtocolVersion, connect.CleanStart, keepAlive);
        return keepAlive;
    }

    private int? Refuse(MqttConnection connection, MqttReasonCode reasonCode, string reason)
    {
        MqttSpans.Refused(reasonCode);
        MqttLog.ConnectRefused(connection.Logger, connection.RemoteEndPoint, reason);
        Metrics.ConnectionsRejected.Add(1, new KeyValuePair<string, object?>("reason", reasonCode.ToString()));
        connection.Send(OutboundItem.ControlPacket(MqttPacketType.ConnAck, new MqttConnAckPacket
        {
            ReasonCode = reasonCode,
            ReasonString = connection.Version == MqttProtocolVersion.V500 ? reason : null,
        }));
        return null;
    }

    /// <summary>A refusal by the node's governance (drain, flapping ban, memory); a ban closes a 3.1.1 client without CONNACK, which has no code for it.</summary>
    private int? Refuse(MqttConnection connection, in ConnectRefusal refusal)
    {
        MqttSpans.Refused(refusal.ReasonCode);
        MqttLog.ConnectRefused(connection.Logger, connection.RemoteEndPoint, refusal.Reason);
        Metrics.ConnectionsRejected.Add(1, new KeyValuePair<string, object?>("reason", refusal.MetricReason));
        if (connection.Version != MqttProtocolVersion.V500 && refusal.CloseWithoutConnAckOn311)
        {
            return null;
        }

        connection.Send(OutboundItem.ControlPacket(MqttPacketType.ConnAck, new MqttConnAckPacket
        {
            ReasonCode = refusal.ReasonCode,
            ReasonString = connection.Version == MqttProtocolVersion.V500 ? refusal.Reason : null,
            ServerReference = connection.Version == MqttProtocolVersion.V500 ? refusal.ServerReference : null,
        }));
        return null;
    }

    public async ValueTask SubscribeAsync(MqttConnection connection, MqttSubscribePacket subscribe)
    {
        var token = connection.Session!.Value;
        var v5 = connection.Version == MqttProtocolVersion.V500;
        var codes = new MqttReasonCode[subscribe.Subscriptions.Count];
        List<(string Filter, MqttQualityOfService Granted, uint Id)>? retainedFor = null;
        for (var i = 0; i < codes.Length; i++)
        {
            var subscription = subscribe.Subscriptions[i];
            var filter = subscription.TopicFilter;
            if (!MqttTopic.IsValidTopicFilter(filter))
            {
                codes[i] = v5 ? MqttReasonCode.TopicFilterInvalid : MqttReasonCode.UnspecifiedError;
                continue;
            }

            var shared = MqttTopic.TryParseSharedSubscription(filter, out _, out _);
            if (shared && subscription.NoLocal)
            {
                throw new MqttProtocolException(MqttReasonCode.ProtocolError, "No Local on a shared subscription.");
            }

            var access = connection.AuthorizeSubscribe(filter);
            if (access == SubscriptionAccess.Refused)
            {
                // 5.0: 0x87 Not authorized; the 3.1.1 writer sends it as 0x80 Failure.
                codes[i] = MqttReasonCode.NotAuthorized;
                continue;
            }

            if (!await Sessions.HasRoomForSubscriptionAsync(token, filter, Options.MaxSubscriptionsPerClient).ConfigureAwait(false))
            {
                // 5.0: 0x97; the 3.1.1 writer sends it as 0x80 Failure.
                codes[i] = MqttReasonCode.QuotaExceeded;
                Metrics.QuotaExceeded.Add(1, new KeyValuePair<string, object?>("quota", "subscriptions"));
                continue;
            }

            var options = new SubscriptionOptions(
                subscription.MaximumQoS,
                subscription.NoLocal,
                subscription.RetainAsPublished,
                (RetainHandling)subscription.RetainHandling,
                subscribe.SubscriptionIdentifier ?? 0);
            var isNew = await Router.SubscribeAsync(token.ClientId, filter, options).ConfigureAwait(false);
            await Sessions.SetSubscriptionAsync(token, new Subscription(filter, options)).ConfigureAwait(false);
            connection.SubscriptionStored(access);
            codes[i] = (MqttReasonCode)(byte)subscription.MaximumQoS;

            var sendRetained = subscription.RetainHandling == MqttRetainHandling.SendAtSubscribe
                || (subscription.RetainHandling == MqttRetainHandling.SendAtSubscribeIfNew && isNew);
            if (!shared && sendRetained)
            {
                (retainedFor ??= []).Add((filter, subscription.MaximumQoS, options.SubscriptionIdentifier));
            }
        }

        if (_fleetEnabled)
        {
            await SaveFleetSubscriptionsAsync(token).ConfigureAwait(false);
        }

        connection.Send(OutboundItem.ControlPacket(MqttPacketType.SubAck, new MqttSubAckPacket { PacketId = subscribe.PacketId, ReasonCodes = codes }));

        if (retainedFor is null)
        {
            return;
        }

        foreach (var (filter, granted, id) in retainedFor)
        {
            foreach (var retained in await Retained.MatchAsync(filter).ConfigureAwait(false))
            {
                if (!connection.CanRead(retained.Message.Topic))
                {
                    connection.DropUnreadable(retained.Message.Topic);
                    continue;
                }

                // Retained messages go out with RETAIN set (3.3.1.3) and the expiry they have left.
                var message = retained.RemainingExpiryInterval == retained.Message.MessageExpiryInterval
                    ? retained.Message
                    : retained.Message.WithMessageExpiryInterval(retained.RemainingExpiryInterval);
                await DeliverAsync(token.ClientId, connection, message, granted, retain: true, id == 0 ? null : [id]).ConfigureAwait(false);
            }
        }
    }

    public async ValueTask UnsubscribeAsync(MqttConnection connection, MqttUnsubscribePacket unsubscribe)
    {
        var token = connection.Session!.Value;
        var codes = new MqttReasonCode[unsubscribe.TopicFilters.Count];
        for (var i = 0; i < codes.Length; i++)
        {
            var filter = unsubscribe.TopicFilters[i];
            if (!MqttTopic.IsValidTopicFilter(filter))
            {
                codes[i] = MqttReasonCode.TopicFilterInvalid;
                continue;
            }

            var existed = await Router.UnsubscribeAsync(token.ClientId, filter).ConfigureAwait(false);
            await Sessions.RemoveSubscriptionAsync(token, filter).ConfigureAwait(false);
            codes[i] = existed ? MqttReasonCode.Success : MqttReasonCode.NoSubscriptionExisted;
        }

        if (_fleetEnabled)
        {
            await SaveFleetSubscriptionsAsync(token).ConfigureAwait(false);
        }

        connection.Send(OutboundItem.ControlPacket(MqttPacketType.UnsubAck, new MqttUnsubAckPacket { PacketId = unsubscribe.PacketId, ReasonCodes = codes }));
    }

    /// <summary>Routes a message to every matching subscriber; returns how many deliveries it made.</summary>
    public ValueTask<int> PublishAsync(MqttApplicationMessage message, string? publisherClientId, MqttConnection? publisher = null) =>
        RouteAsync(message, default, message.Topic, publisherClientId, publisher, forwarded: null);

    /// <summary>
    /// Routes a PUBLISH as it was received from <paramref name="publisher"/>: its payload is copied
    /// only once some subscriber takes it, not for a QoS 0 delivery that a full writer would drop.
    /// </summary>
    public ValueTask<int> PublishAsync(MqttPublishPacket publish, string topic, MqttConnection publisher) =>
        RouteAsync(null, publish, topic, publisher.ClientId, publisher, forwarded: null);

    /// <summary>
    /// Either <paramref name="message"/> or, copied when first needed, <paramref name="publish"/> (valid until the reader advances its pipe).
    /// In a fleet, a message published here is planned against the route table replica (peers, shared groups, durable
    /// subscribers) and forwarded; one <paramref name="forwarded"/> by a peer goes only to what the peer picked this node for.
    /// </summary>
    private async ValueTask<int> RouteAsync(MqttApplicationMessage? message, MqttPublishPacket publish, string topic, string? publisherClientId, IPressureNotes? publisher, ForwardedMessage? forwarded)
    {
        var qos = message?.QualityOfService ?? publish.QualityOfService;
        if (message?.Retain ?? publish.Retain)
        {
            message ??= publish.ToApplicationMessage(topic);
            var update = await Retained.SetAsync(message).ConfigureAwait(false);
            if (update is RetainedUpdate.NotStoredCountLimit or RetainedUpdate.NotStoredBytesLimit)
            {
                // EMQX's retainer does the same: the message is routed, only not retained.
                Metrics.QuotaExceeded.Add(1, new KeyValuePair<string, object?>("quota", update == RetainedUpdate.NotStoredCountLimit ? "retained_messages" : "retained_bytes"));
            }
        }

        if (forwarded is not null && !forwarded.PlainSubscribers && forwarded.ShareGroups.Count == 0)
        {
            // Sent here only to be retained.
            return 0;
        }

        PublishPlan? plan = null;
        var fleetWork = false;
        var durableId = forwarded?.DurableId ?? Guid.Empty;
        if (_fleetEnabled && forwarded is null)
        {
            plan = t_plan ?? new PublishPlan();
            t_plan = null;
            fleetWork = _fleet.TryPlan(topic, publisherClientId, qos, message?.Retain ?? publish.Retain, plan);
            durableId = plan.DurableId;
            if (durableId != Guid.Empty)
            {
                // Before the local deliveries and the forwarding, which may wait for slow subscribers (IFleet.StartDurable).
                message ??= publish.ToApplicationMessage(topic);
                _fleet.StartDurable(plan, message);
            }
        }

        var matches = t_matches ?? new SubscriberMatches();
        t_matches = null;
        try
        {
            await Router.MatchAsync(topic, publisherClientId, matches).ConfigureAwait(false);
            var count = matches.Count;
            var delivered = 0;
            for (var i = 0; i < count; i++)
            {
                var match = matches[i];
                if (_fleetEnabled && !IsForThisNode(match, plan, forwarded))
                {
                    continue;
                }

                delivered++;
                _clients.TryGetValue(match.ClientId, out var connection);
                if (connection is not null && !connection.CanRead(topic))
                {
                    // A subscription overlapping a denied area (ACL): this topic is not for this client.
                    connection.DropUnreadable(topic);
                    continue;
                }

                if (connection is not null && (qos < match.MaximumQualityOfService ? qos : match.MaximumQualityOfService) == MqttQualityOfService.AtMostOnce && connection.IsOutboundFull)
                {
                    // Dropped anyway (Send would refuse it): do not copy the payload for it.
                    connection.DropDelivery();
                    publisher?.NotePressureFrom(connection);
                    continue;
                }

                message ??= publish.ToApplicationMessage(topic);
                var ids = matches.GetSubscriptionIdentifiers(match);
                await DeliverAsync(match.ClientId, connection, message, match.MaximumQualityOfService, match.RetainAsPublished && message.Retain, ids.IsEmpty ? null : ids.ToArray(), publisher, durableId).ConfigureAwait(false);
            }

            if (fleetWork)
            {
                message ??= publish.ToApplicationMessage(topic);
                await ForwardToFleetAsync(plan!, message, publisherClientId).ConfigureAwait(false);
            }
            else if (delivered == 0 && forwarded is null)
            {
                Metrics.Dropped("no_subscribers");
            }

            return delivered;
        }
        finally
        {
            matches.Clear();
            t_matches = matches;
            if (plan is not null)
            {
                plan.Clear();
                t_plan = plan;
            }
        }
    }

    private ValueTask DeliverAsync(string clientId, MqttApplicationMessage message, MqttQualityOfService maximumQoS, bool retainAsPublished, uint[]? subscriptionIdentifiers)
    {
        _clients.TryGetValue(clientId, out var connection);
        if (connection is not null && !connection.CanRead(message.Topic))
        {
            connection.DropUnreadable(message.Topic);
            return ValueTask.CompletedTask;
        }

        return DeliverAsync(clientId, connection, message, maximumQoS, retainAsPublished && message.Retain, subscriptionIdentifiers);
    }

    /// <summary>
    /// QoS 0 to a live connection goes straight to its writer. Everything else goes through the
    /// session queue, which is bounded (oldest dropped and counted) and keeps order; a live
    /// connection is then nudged to pull through its inflight window. A <paramref name="publisher"/>
    /// is told when the live connection is past its high watermark (back-pressure).
    /// </summary>
    private async ValueTask DeliverAsync(string clientId, MqttConnection? connection, MqttApplicationMessage message, MqttQualityOfService maximumQoS, bool retain, uint[]? subscriptionIdentifiers, IPressureNotes? publisher = null, Guid durableId = default)
    {
        var qos = message.QualityOfService < maximumQoS ? message.QualityOfService : maximumQoS;
        if (qos == MqttQualityOfService.AtMostOnce && connection is not null)
        {
            connection.Send(OutboundItem.Deliver(message, qos, retain, subscriptionIdentifiers));
            publisher?.NotePressureFrom(connection);
            return;
        }

        var result = await Sessions.EnqueueAsync(clientId, new MessageDelivery
        {
            Message = message,
            QualityOfService = qos,
            Retain = retain,
            SubscriptionIdentifiers = subscriptionIdentifiers ?? [],
            DurableId = durableId,
        }).ConfigureAwait(false);
        CountEnqueue(clientId, result);
        if (connection is not null)
        {
            connection.OnSessionEnqueued(result);
            connection.RequestDrain();
            publisher?.NotePressureFrom(connection);
        }
    }

    public void CountEnqueue(string clientId, EnqueueResult result)
    {
        // DroppedCount already includes a refused new message (DroppedNew); the deferred ones are kept in Redis.
        if (result.DroppedCount > result.DeferredCount)
        {
            Metrics.Dropped("queue_full", result.DroppedCount - result.DeferredCount);
        }

        if (result.DeferredCount > 0)
        {
            DeferDurable(clientId, result.DeferredCount);
        }

        if (result.ExpiredCount > 0)
        {
            Metrics.Dropped("expired", result.ExpiredCount);
        }

        switch (result.Outcome)
        {
            case EnqueueOutcome.NotQueuedQos0:
                Metrics.Dropped("offline_qos0");
                break;
            case EnqueueOutcome.NoSession:
                Metrics.Dropped("no_session");
                break;
        }
    }

    /// <summary>The connection is gone: end or park its session, publish its will, hand a leaving shared-subscription member's messages to the rest of its groups.</summary>
    public async Task OnConnectionClosedAsync(MqttConnection connection, string reason, bool publishWill, uint? disconnectSessionExpiry)
    {
        _connections.Remove(connection);
        if (connection.Session is not { } token)
        {
            connection.CloseWrites();
            return;
        }

        _clients.TryRemove(new KeyValuePair<string, MqttConnection>(token.ClientId, connection));
        connection.CloseWrites();
        Metrics.MqttConnectionClosed();
        MqttLog.ClientDisconnected(connection.Logger, token.ClientId, reason);

        if (_fleetEnabled && await SettleFencedAsync(token.ClientId).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            var before = await Sessions.GetAsync(token.ClientId).ConfigureAwait(false);
            var ended = await Sessions.DisconnectAsync(token, publishWill, disconnectSessionExpiry).ConfigureAwait(false);
            if (!ended.Applied)
            {
                return;
            }

            if (ended.WillToPublish is { } will)
            {
                MqttLog.WillPublished(connection.Logger, token.ClientId, will.Topic);
                await PublishAsync(will, publisherClientId: null).ConfigureAwait(false);
            }

            if (ended.SessionEnded)
            {
                await Router.RemoveClientAsync(token.ClientId).ConfigureAwait(false);
                await EndInFleetAsync(token.ClientId).ConfigureAwait(false);
                if (before is not null)
                {
                    await RedistributeSharedAsync(before).ConfigureAwait(false);
                }
            }
        }
        catch (SessionTakenOverException)
        {
            // A newer connection owns the session now; nothing of this one is left to settle.
        }
    }

    /// <summary>
    /// A shared-subscription member whose session ended leaves unacknowledged messages behind:
    /// give each to another member of the same group (MQTT 5.0 4.8.2 leaves this to the server; EMQX does the same).
    /// </summary>
    private async ValueTask RedistributeSharedAsync(SessionState leaving)
    {
        HashSet<string>? groups = null;
        foreach (var subscription in leaving.Subscriptions)
        {
            if (MqttTopic.TryParseSharedSubscription(subscription.TopicFilter, out var group, out _))
            {
                (groups ??= new HashSet<string>(StringComparer.Ordinal)).Add(group);
            }
        }

        if (groups is null || leaving.Inflight.Count == 0)
        {
            return;
        }

        var matches = new SubscriberMatches();
        foreach (var inflight in leaving.Inflight)
        {
            if (inflight.State == OutgoingState.AwaitingPubComp)
            {
                continue;
            }

            var message = inflight.Delivery.Message;
            matches.Clear();
            await Router.MatchAsync(message.Topic, null, matches).ConfigureAwait(false);
            for (var i = 0; i < matches.Count; i++)
            {
                var match = matches[i];
                if (match.ShareGroup is not null && groups.Contains(match.ShareGroup))
                {
                    await DeliverAsync(match.ClientId, message, match.MaximumQualityOfService, match.RetainAsPublished, subscriptionIdentifiers: null).ConfigureAwait(false);
                }
            }
        }
    }
}
