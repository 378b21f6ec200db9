namespace AccessLayer.Gateway.Security;

/// <summary>
/// The ACL of one connected client. First matching rule wins, else the default. For PUBLISH a
/// rule matches when its filter matches the topic. For SUBSCRIBE an allow rule matches when its
/// filter covers every topic the requested filter could match, and a deny rule as soon as the
/// two could share one topic, so a wide subscription never reaches a denied topic.
/// Used by one connection's reader only, so the publish cache needs no lock.
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

    /// <summary>Checks a subscription filter; a shared subscription is checked on its topic filter.</summary>
    public bool CanSubscribe(string filter)
    {
        if (_rules.Length == 0)
        {
            return _default == AclPermission.Allow;
        }

        if (AccessLayer.Protocol.Mqtt.MqttTopic.TryParseSharedSubscription(filter, out _, out var inner))
        {
            filter = inner;
        }

        return Decide(AclAction.Subscribe, filter);
    }

    private bool Decide(AclAction action, string topicOrFilter)
    {
        var requested = topicOrFilter.Split('/');
        foreach (var rule in _rules)
        {
            if ((rule.Action & action) == 0)
            {
                continue;
            }

            var matches = action == AclAction.Publish || rule.Permission == AclPermission.Deny
                ? Overlaps(rule.Levels, requested)
                : Covers(rule.Levels, requested);
            if (matches)
            {
                return rule.Permission == AclPermission.Allow;
            }
        }

        return _default == AclPermission.Allow;
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
