namespace AccessLayer.Gateway.Security;

/// <summary>What the ACL says about one SUBSCRIBE filter.</summary>
public enum SubscriptionAccess
{
    /// <summary>Every topic the filter can match may be read: deliveries need no check.</summary>
    Allowed,

    /// <summary>Some topics may be read, some not (a deny rule overlaps it): granted, and each delivery is checked (<see cref="ClientAcl.CanRead"/>).</summary>
    Checked,

    /// <summary>No topic the filter can match may be read: refused.</summary>
    Refused,
}

/// <summary>
/// The ACL of one connected client. First matching rule wins, else the default. For PUBLISH a
/// rule matches when its filter matches the topic; reading a delivered message is decided the
/// same way with the subscribe rules (<see cref="CanRead"/>). A SUBSCRIBE filter is refused only
/// when it lies entirely inside a denied area, granted without further checks when it lies
/// entirely inside an allowed one, and otherwise granted with a per-message read check
/// (<see cref="Classify"/>), as mosquitto does: <c>deny * subscribe secret/#</c> leaves <c>#</c>
/// usable and keeps <c>secret/...</c> messages from it. Publish checks run on one connection's
/// reader (the publish cache needs no lock); <see cref="CanRead"/> runs on any router thread
/// and touches no shared state.
/// </summary>
internal sealed class ClientAcl
{
    private const int MaxCachedTopics = 128;

    public static readonly ClientAcl AllowAll = new([], AclPermission.Allow);
    public static readonly ClientAcl DenyAll = new([], AclPermission.Deny);

    private readonly CompiledRule[] _rules;
    private readonly AclPermission _default;
    private Dictionary<string, bool>? _publishCache;

    public ClientAcl(CompiledRule[] rules, AclPermission defaultPermission)
    {
        _rules = rules;
        _default = defaultPermission;
    }

    public bool CanPublish(string topic)
    {
        if (_rules.Length == 0)
        {
            return _default == AclPermission.Allow;
        }

        if (_publishCache is not null && _publishCache.TryGetValue(topic, out var cached))
        {
            return cached;
        }

        var allowed = Decide(AclAction.Publish, topic);
        _publishCache ??= new Dictionary<string, bool>(StringComparer.Ordinal);
        if (_publishCache.Count >= MaxCachedTopics)
        {
            _publishCache.Clear();
        }

        _publishCache[topic] = allowed;
        return allowed;
    }

    /// <summary>
    /// Classifies a subscription filter (a shared subscription by its topic filter). Walks the
    /// subscribe rules in order: a rule that covers the filter decides what no earlier
    /// overlapping rule decided, and so does the default after the last rule. When an earlier
    /// rule of the other permission overlapped, the answer is <see cref="SubscriptionAccess.Checked"/>:
    /// never wrong, since each delivery is then decided exactly.
    /// </summary>
    public SubscriptionAccess Classify(string filter)
    {
        if (_rules.Length == 0)
        {
            return _default == AclPermission.Allow ? SubscriptionAccess.Allowed : SubscriptionAccess.Refused;
        }

        if (AccessLayer.Protocol.Mqtt.MqttTopic.TryParseSharedSubscription(filter, out _, out var inner))
        {
            filter = inner;
        }

        var requested = filter.Split('/');
        var allowSeen = false;
        var denySeen = false;
        foreach (var rule in _rules)
        {
            if ((rule.Action & AclAction.Subscribe) == 0 || !Overlaps(rule.Levels, requested))
            {
                continue;
            }

            if (Covers(rule.Levels, requested))
            {
                return Settle(rule.Permission, allowSeen, denySeen);
            }

            if (rule.Permission == AclPermission.Allow)
            {
                allowSeen = true;
            }
            else
            {
                denySeen = true;
            }
        }

        return Settle(_default, allowSeen, denySeen);
    }

    /// <summary>
    /// Whether a message on <paramref name="topic"/> may be delivered to this client: the first
    /// subscribe rule whose filter matches the topic, else the default. Allocation-free and
    /// thread-safe (called while routing, for subscriptions classified <see cref="SubscriptionAccess.Checked"/>).
    /// </summary>
    public bool CanRead(string topic) => Decide(AclAction.Subscribe, topic);

    private static SubscriptionAccess Settle(AclPermission permission, bool allowSeen, bool denySeen) => permission == AclPermission.Allow
        ? (denySeen ? SubscriptionAccess.Checked : SubscriptionAccess.Allowed)
        : (allowSeen ? SubscriptionAccess.Checked : SubscriptionAccess.Refused);

    private bool Decide(AclAction action, string topic)
    {
        foreach (var rule in _rules)
        {
            if ((rule.Action & action) != 0 && MatchesTopic(rule.Levels, topic))
            {
                return rule.Permission == AclPermission.Allow;
            }
        }

        return _default == AclPermission.Allow;
    }

    /// <summary>True when the filter <paramref name="rule"/> matches the topic name <paramref name="topic"/> (MQTT 4.7, <c>$</c> topics included).</summary>
    internal static bool MatchesTopic(string[] rule, ReadOnlySpan<char> topic)
    {
        var rest = topic;
        var more = true;
        for (var i = 0; i < rule.Length; i++)
        {
            var level = rule[i];
            if (level == "#")
            {
                // '#' also matches the parent level ("a/#" matches "a"), but not a $ topic from the first level.
                return !(i == 0 && topic.StartsWith('$'));
            }

            if (!more)
            {
                return false;
            }

            var slash = rest.IndexOf('/');
            var segment = slash < 0 ? rest : rest[..slash];
            more = slash >= 0;
            rest = more ? rest[(slash + 1)..] : default;
            if (level == "+")
            {
                if (i == 0 && segment.StartsWith('$'))
                {
                    return false;
                }

                continue;
            }

            if (!segment.SequenceEqual(level))
            {
                return false;
            }
        }

        return !more;
    }

    /// <summary>True when every topic <paramref name="requested"/> matches is matched by <paramref name="rule"/>.</summary>
    internal static bool Covers(string[] rule, string[] requested)
    {
        for (var i = 0; i < rule.Length; i++)
        {
            var level = rule[i];
            if (level == "#")
            {
                return !(i == 0 && requested[0].StartsWith('$'));
            }

            if (i >= requested.Length)
            {
                return false;
            }

            var want = requested[i];
            if (level == "+")
            {
                if (want == "#" || (i == 0 && want.StartsWith('$')))
                {
                    return false;
                }

                continue;
            }

            if (!string.Equals(level, want, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return rule.Length == requested.Length;
    }

    /// <summary>True when some topic is matched by both filters (for a plain topic name: the rule matches it).</summary>
    internal static bool Overlaps(string[] rule, string[] requested)
    {
        var length = Math.Max(rule.Length, requested.Length);
        for (var i = 0; i < length; i++)
        {
            if (i >= rule.Length || i >= requested.Length)
            {
                // One ran out: only a trailing '#' on the other still matches (it matches its parent level too).
                var longer = i >= rule.Length ? requested : rule;
                return longer.Length == i + 1 && longer[i] == "#";
            }

            var a = rule[i];
            var b = requested[i];
            var wildA = a is "+" or "#";
            var wildB = b is "+" or "#";
            if (i == 0 && ((wildA && b.StartsWith('$')) || (wildB && a.StartsWith('$'))))
            {
                // MQTT 4.7.2: a wildcard in the first level never matches a $ topic.
                return false;
            }

            if (a == "#" || b == "#")
            {
                return true;
            }

            if (!wildA && !wildB && !string.Equals(a, b, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    internal sealed record CompiledRule(AclPermission Permission, AclAction Action, string[] Levels);
}
