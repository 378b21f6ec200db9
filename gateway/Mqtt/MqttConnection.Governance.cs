using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using AccessLayer.Gateway.Governance;
using AccessLayer.Gateway.Security;
using AccessLayer.Gateway.Transport;
using AccessLayer.Protocol.Mqtt;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace AccessLayer.Gateway.Mqtt;

/// <summary>
/// Governance state of one connection: who it is (listener, certificate, authenticated
/// identity), what it may do (its compiled ACL), how fast it may publish (token buckets owned
/// by the reader), and whether its writer has fallen behind (slow consumer).
/// </summary>
internal sealed partial class MqttConnection
{
    // The ACL is read by the reader (PUBLISH, SUBSCRIBE), router threads (read checks) and an ACL
    // reload; the gate orders a SUBSCRIBE's classification against a reload's swap. The gate is the
    // connection's own lock (OutLock): every section under it is a leaf (no other lock, no wait, no
    // callout), so sharing it cannot deadlock, and a connection carries no 40 B Lock of its own.
    private object _aclGate => this;
    private volatile ClientAcl _acl = ClientAcl.AllowAll;

    // Set once a subscription overlaps a denied area: from then on each delivery is checked.
    private volatile bool _readChecked;
    private int _aclChanges;
    private int _subscriptionsPending;
    private long _connectedAtUtcTicks;
    private int _goingAway;

    // Only when the limits set a publish rate; owned by the reader.
    private PublishRateLimits? _rates;

    /// <summary>The listener that accepted the connection (tcp, tls, ws, wss).</summary>
    public string Listener => _transport.Features.Get<IListenerFeature>()?.Listener ?? ListenerNames.MqttTcp;

    /// <summary>The client certificate the TLS layer validated, if any.</summary>
    public X509Certificate2? ClientCertificate => _transport.Features.Get<ITlsConnectionFeature>()?.ClientCertificate;

    /// <summary>The TLS version negotiated, for TLS transports.</summary>
    public System.Security.Authentication.SslProtocols? TlsProtocol => _transport.Features.Get<ITlsHandshakeFeature>()?.Protocol;

    /// <summary>Who authentication says the client is (ACL <c>%u</c>); null for anonymous clients.</summary>
    public string? Identity { get; private set; }

    public string? AuthenticationMethod { get; private set; }

    public DateTimeOffset? ConnectedAt => _connectedAtUtcTicks == 0 ? null : new DateTimeOffset(_connectedAtUtcTicks, TimeSpan.Zero);

    public bool CleanStart { get; private set; }

    public uint SessionExpiryInterval => _connectSessionExpiry;

    public bool IsClosing => Volatile.Read(ref _closeRequested) != 0;

    /// <summary>Closing, or already evicted or moved by a drain.</summary>
    public bool IsGoingAway => IsClosing || Volatile.Read(ref _goingAway) != 0;

    /// <summary>Whether the will is published when this connection ends; a drain may suppress it.</summary>
    private bool _suppressWill;

    /// <summary>Timestamp at which the outbound queue went past its high watermark; 0 while it is under it.</summary>
    public long BehindSince => _rare is { } rare ? Volatile.Read(ref rare.BehindSince) : 0;

    public int OutboundQueueLength => QueuedCount;

    public long OutboundQueueBytes => QueuedBytes;

    public int InflightCount => Volatile.Read(ref _inflightCount);

    /// <summary>Keepalive and user timeout as the kernel has them for this socket; null off TCP.</summary>
    public SocketTuningState? ReadSocketState()
    {
        if (_transport.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
        {
            return null;
        }

        try
        {
            return SocketTuning.Read(socket);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Called by the broker when CONNECT is accepted, before CONNACK is queued.</summary>
    public void ApplyGovernance(ClientAcl acl, string? identity, string? method, bool cleanStart, LimitsOptions limits)
    {
        _acl = acl;
        Identity = identity;
        AuthenticationMethod = method;

        CleanStart = cleanStart;
        _connectedAtUtcTicks = _time.GetUtcNow().UtcTicks;
        var now = _time.GetTimestamp();
        if (limits.PublishRate <= 0 && limits.PublishByteRate <= 0)
        {
            return;
        }

        var rates = new PublishRateLimits { MessageRate = limits.PublishRate, ByteRate = limits.PublishByteRate };
        if (limits.PublishRate > 0)
        {
            rates.Messages = new TokenBucket(limits.PublishRate, limits.PublishBurst > 0 ? limits.PublishBurst : limits.PublishRate, now);
        }

        if (limits.PublishByteRate > 0)
        {
            rates.Bytes = new TokenBucket(limits.PublishByteRate, limits.PublishByteBurst > 0 ? limits.PublishByteBurst : limits.PublishByteRate, now);
        }

        _rates = rates;
    }

    /// <summary>
    /// Charges one PUBLISH of <paramref name="packetBytes"/> to the client's rate limits; false
    /// (and the connection is being closed: 5.0 DISCONNECT 0x96 for messages, 0x97 for bytes) when it is over.
    /// </summary>
    private bool ChargePublish(int packetBytes)
    {
        if (_rates is not { } rates)
        {
            return true;
        }

        var now = _time.GetTimestamp();
        if (rates.Messages.IsEnabled && !rates.Messages.TryTake(1, now, _time))
        {
            GovernanceLog.PublishRateExceeded(_logger, ClientId!, rates.MessageRate);
            Evict(MqttReasonCode.MessageRateTooHigh, "publish_rate", "Message rate too high.");
            return false;
        }

        if (rates.Bytes.IsEnabled && !rates.Bytes.TryTake(packetBytes, now, _time))
        {
            GovernanceLog.ByteRateExceeded(_logger, ClientId!, rates.ByteRate);
            Evict(MqttReasonCode.QuotaExceeded, "byte_rate", "Publish byte rate exceeded.");
            return false;
        }

        return true;
    }

    /// <summary>
    /// Whether a message on <paramref name="topic"/> may be delivered to this client. Costs one
    /// volatile read unless some subscription overlaps a denied area (<see cref="SubscriptionAccess.Checked"/>).
    /// </summary>
    public bool CanRead(string topic) => !_readChecked || _acl.CanRead(topic);

    /// <summary>Whether deliveries to this client are checked against its ACL one by one.</summary>
    public bool IsReadChecked => _readChecked;

    /// <summary>Counts a delivery <see cref="CanRead"/> refused.</summary>
    public void DropUnreadable(string topic)
    {
        _broker.Metrics.Dropped("not_authorized");
        GovernanceLog.AclDenied(_logger, ClientId ?? ConnectionId, "read", topic);
    }

    private bool AuthorizePublish(string topic)
    {
        if (_acl.CanPublish(topic) && !SysTopics.IsSys(topic))
        {
            return true;
        }

        GovernanceLog.AclDenied(_logger, ClientId!, "publish", topic);
        _broker.Metrics.AclDenied.Add(1, new KeyValuePair<string, object?>("action", "publish"));
        return false;
    }

    /// <summary>
    /// Checks one SUBSCRIBE filter against the ACL (counted and logged when refused). A granted
    /// filter must be followed by <see cref="SubscriptionStored"/> once router and session hold it.
    /// </summary>
    public SubscriptionAccess AuthorizeSubscribe(string filter, string action = "subscribe")
    {
        SubscriptionAccess access;
        lock (_aclGate)
        {
            access = _acl.Classify(filter);
            _aclChanges++;
            if (access != SubscriptionAccess.Refused)
            {
                _readChecked |= access == SubscriptionAccess.Checked;
                _subscriptionsPending++;
            }
        }

        if (access == SubscriptionAccess.Refused)
        {
            GovernanceLog.AclDenied(_logger, ClientId!, action, filter);
            _broker.Metrics.AclDenied.Add(1, new KeyValuePair<string, object?>("action", action));
        }

        return access;
    }

    /// <summary>A filter <see cref="AuthorizeSubscribe"/> granted is now in the session (a reload reading it sees it).</summary>
    public void SubscriptionStored(SubscriptionAccess access)
    {
        if (access != SubscriptionAccess.Refused)
        {
            lock (_aclGate)
            {
                _subscriptionsPending--;
            }
        }
    }

    /// <summary>
    /// After an ACL reload: this client's rules are compiled again, and its subscriptions are
    /// classified again to decide whether deliveries are checked. Until that is known they are
    /// (a filter that was fully allowed may overlap a new deny rule). Nothing is unsubscribed: a
    /// filter the new rules refuse just gets no messages, like mosquitto after a reload.
    /// </summary>
    public async ValueTask ApplyAclAsync(ClientAcl acl)
    {
        int mark;
        bool quiet;
        lock (_aclGate)
        {
            _acl = acl;
            _readChecked = true;
            mark = ++_aclChanges;
            quiet = _subscriptionsPending == 0;
        }

        var state = await _broker.Sessions.GetAsync(ClientId!).ConfigureAwait(false);
        var check = false;
        foreach (var subscription in state?.Subscriptions ?? [])
        {
            check |= acl.Classify(subscription.TopicFilter) != SubscriptionAccess.Allowed;
        }

        lock (_aclGate)
        {
            // A SUBSCRIBE classified meanwhile, or one classified before and stored after our read, keeps it checked.
            if (quiet && _aclChanges == mark)
            {
                _readChecked = check;
            }
        }
    }

    /// <summary>Closes the connection for governance reasons: counted by <paramref name="metricReason"/>, 5.0 clients told <paramref name="reasonCode"/>.</summary>
    public void Evict(MqttReasonCode reasonCode, string metricReason, string reason)
    {
        if (TryClaimGoingAway())
        {
            CloseEvicted(reasonCode, metricReason, reason);
        }
    }

    /// <summary>One eviction (or drain move) per connection, whoever notices first: maintenance, a reader, a router thread.</summary>
    private bool TryClaimGoingAway() => !IsClosing && Interlocked.Exchange(ref _goingAway, 1) == 0;

    private void CloseEvicted(MqttReasonCode reasonCode, string metricReason, string reason)
    {
        _broker.Metrics.Evicted(metricReason);
        SendDisconnect(reasonCode, reason);
        RequestClose(reason);
    }

    /// <summary>
    /// Drain: 5.0 clients get DISCONNECT 0x9C (Use another server) with the Server Reference,
    /// 3.1.1 clients are closed. False when the connection was already going.
    /// </summary>
    public bool MoveAway(DrainContext context)
    {
        if (!TryClaimGoingAway())
        {
            return false;
        }

        _suppressWill = !context.PublishWills;
        _broker.Metrics.Evicted("drain");
        SendDisconnect(MqttReasonCode.UseAnotherServer, "The node is draining; use another server.", context.ServerReference);
        RequestClose("drain");
        return true;
    }

    /// <summary>
    /// Evicts a slow consumer: what it has queued is dropped (QoS 1/2 back to its session), a 5.0
    /// client is sent DISCONNECT 0x97 in case its socket still drains, and the connection closes
    /// (aborted after the close timeout if the peer does not read).
    /// </summary>
    public void EvictSlowConsumer()
    {
        if (!TryClaimGoingAway())
        {
            return;
        }

        // What is still queued is QoS 0 or control traffic for a peer that does not read; QoS 1/2 wait in the session.
        int queued;
        lock (OutLock)
        {
            queued = ClearQueue();

            // Publishers waiting on it resume; it no longer presses on anyone.
            Relieve();
        }

        MqttLog.SlowConsumer(_logger, ClientId ?? ConnectionId, queued);
        CloseEvicted(MqttReasonCode.QuotaExceeded, "slow_consumer", "Slow consumer.");
    }
}
