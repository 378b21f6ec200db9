using AccessLayer.Sessions.Queue;
using AccessLayer.Sessions.Routing;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// One session in the in-memory store. Guarded by locking the record itself; a record that
/// has been <see cref="Removed"/> from the store's map is dead and callers look again.
/// </summary>
internal sealed class SessionRecord(string clientId) : IChained<SessionRecord>
{
    // The store's table is chained through its records: no dictionary node per session.
    private SessionRecord? _chainNext;

    // Expiry is kept as UTC ticks and everything a connected session without subscriptions, will,
    // inflight or queued messages does not use lives in Persisted, made on first non-default write:
    // one idle connection's record is 64 bytes instead of 168.
    private long _expiresAtUtcTicks = DateTimeOffset.MaxValue.UtcTicks;
    private PersistedState? _persisted;

    // Owner and node, rarely set on one in-memory node: one reference instead of two.
    private Holder? _holder;

    public string ClientId { get; } = clientId;

    string IChained<SessionRecord>.ChainKey => ClientId;

    ref SessionRecord? IChained<SessionRecord>.ChainNext => ref _chainNext;

    /// <summary>False between the map insert and the first open (then nobody owns it yet).</summary>
    public bool Initialized { get; set; }

    public bool Removed { get; set; }

    public long Epoch { get; set; }

    public bool Connected { get; set; }

    /// <summary>The node holding the connection (a fleet's session directory); null on a single node.</summary>
    public string? NodeId => _holder?.NodeId;

    /// <summary>The identity that owns the session; null for an anonymous session (or a gateway that checks no credentials).</summary>
    public string? Owner => _holder?.Owner;

    /// <summary>Records who holds the session; shares one field with nothing allocated for an anonymous session on one node.</summary>
    public void SetHolder(string? owner, string? nodeId)
    {
        if (owner is null && nodeId is null)
        {
            _holder = null;
        }
        else if (_holder is not { } holder || !string.Equals(holder.Owner, owner, StringComparison.Ordinal) || !string.Equals(holder.NodeId, nodeId, StringComparison.Ordinal))
        {
            _holder = new Holder(owner, nodeId);
        }
    }

    public uint ExpiryInterval { get; set; }

    /// <summary>Bumped whenever the scheduled deadline changes, so stale entries in the deadline heap are ignored.</summary>
    public long DeadlineVersion { get; set; }

    /// <summary>When a disconnected session ends; <see cref="DateTimeOffset.MaxValue"/> while connected or never.</summary>
    public DateTimeOffset ExpiresAt
    {
        get => new(_expiresAtUtcTicks, TimeSpan.Zero);
        set => _expiresAtUtcTicks = value.UtcTicks;
    }

    public DateTimeOffset? DisconnectedAt
    {
        get => _persisted?.DisconnectedAt;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.DisconnectedAt = value;
            }
        }
    }

    public WillMessage? Will
    {
        get => _persisted?.Will;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.Will = value;
            }
        }
    }

    /// <summary>When the pending will is due after a disconnect (never later than <see cref="ExpiresAt"/>).</summary>
    public DateTimeOffset WillDueAt
    {
        get => _persisted?.WillDueAt ?? DateTimeOffset.MaxValue;
        set
        {
            if (value != DateTimeOffset.MaxValue || _persisted is not null)
            {
                Persisted.WillDueAt = value;
            }
        }
    }

    public Dictionary<string, SubscriptionOptions>? Subscriptions
    {
        get => _persisted?.Subscriptions;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.Subscriptions = value;
            }
        }
    }

    public Dictionary<ushort, (long Sequence, InflightMessage Message)>? Inflight
    {
        get => _persisted?.Inflight;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.Inflight = value;
            }
        }
    }

    public long InflightSequence
    {
        get => _persisted?.InflightSequence ?? 0;
        set
        {
            if (value != 0 || _persisted is not null)
            {
                Persisted.InflightSequence = value;
            }
        }
    }

    public ushort LastPacketId
    {
        get => _persisted?.LastPacketId ?? 0;
        set
        {
            if (value != 0 || _persisted is not null)
            {
                Persisted.LastPacketId = value;
            }
        }
    }

    public HashSet<ushort>? Incoming
    {
        get => _persisted?.Incoming;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.Incoming = value;
            }
        }
    }

    public OfflineQueue? Queue
    {
        get => _persisted?.Queue;
        set
        {
            if (value is not null || _persisted is not null)
            {
                Persisted.Queue = value;
            }
        }
    }

    // Guarded by the record's lock like every other member.
    private PersistedState Persisted => _persisted ??= new PersistedState();

    /// <summary>Discards everything the session persisted (Clean Start, expiry, removal).</summary>
    public void ResetState()
    {
        Subscriptions = null;
        Inflight = null;
        InflightSequence = 0;
        LastPacketId = 0;
        Incoming = null;
        Queue = null;
        Will = null;
        WillDueAt = DateTimeOffset.MaxValue;
    }

    private sealed record Holder(string? Owner, string? NodeId);

    /// <summary>The part of a <see cref="SessionRecord"/> an idle connected session does not use.</summary>
    private sealed class PersistedState
    {
        public DateTimeOffset? DisconnectedAt;
        public WillMessage? Will;
        public DateTimeOffset WillDueAt = DateTimeOffset.MaxValue;
        public Dictionary<string, SubscriptionOptions>? Subscriptions;
        public Dictionary<ushort, (long Sequence, InflightMessage Message)>? Inflight;
        public long InflightSequence;
        public ushort LastPacketId;
        public HashSet<ushort>? Incoming;
        public OfflineQueue? Queue;
    }
}
