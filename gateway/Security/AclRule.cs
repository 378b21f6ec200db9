namespace AccessLayer.Gateway.Security;

[Flags]
public enum AclAction
{
    Publish = 1,
    Subscribe = 2,
    All = Publish | Subscribe,
}

internal enum AclSubjectKind
{
    Everyone,
    User,
    Client,
    Anonymous,
}

/// <summary>One line of an ACL: <c>allow|deny WHO publish|subscribe|all TOPIC</c>, before <c>%c</c>/<c>%u</c> are substituted.</summary>
internal sealed record AclRule(AclPermission Permission, AclSubjectKind Subject, string? SubjectValue, AclAction Action, string Topic)
{
    /// <summary>Parses one rule; throws <see cref="FormatException"/> with what is wrong.</summary>
    public static AclRule Parse(string line)
    {
        var parts = line.Trim().Split((char[]?)null, 4, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 4)
        {
            throw new FormatException($"'{line}': expected 'allow|deny WHO publish|subscribe|all TOPIC'.");
        }

        var permission = parts[0].ToLowerInvariant() switch
        {
            "allow" => AclPermission.Allow,
            "deny" => AclPermission.Deny,
            _ => throw new FormatException($"'{line}': '{parts[0]}' is neither allow nor deny."),
        };

        var who = parts[1];
        (AclSubjectKind kind, string? value) subject = who switch
        {
            "*" or "all" => (AclSubjectKind.Everyone, null),
            "anonymous" => (AclSubjectKind.Anonymous, null),
            _ when who.StartsWith("user:", StringComparison.Ordinal) && who.Length > 5 => (AclSubjectKind.User, who[5..]),
            _ when who.StartsWith("client:", StringComparison.Ordinal) && who.Length > 7 => (AclSubjectKind.Client, who[7..]),
            _ => throw new FormatException($"'{line}': who is '*', 'anonymous', 'user:NAME' or 'client:ID', not '{who}'."),
        };

        var action = parts[2].ToLowerInvariant() switch
        {
            "publish" or "pub" => AclAction.Publish,
            "subscribe" or "sub" => AclAction.Subscribe,
            "all" or "pubsub" => AclAction.All,
            _ => throw new FormatException($"'{line}': '{parts[2]}' is not publish, subscribe or all."),
        };

        var topic = parts[3];
        var probe = topic.Replace("%c", "c", StringComparison.Ordinal).Replace("%u", "u", StringComparison.Ordinal);
        if (!AccessLayer.Protocol.Mqtt.MqttTopic.IsValidTopicFilter(probe))
        {
            throw new FormatException($"'{line}': '{topic}' is not a valid topic filter.");
        }

        return new AclRule(permission, subject.kind, subject.value, action, topic);
    }

    public bool AppliesTo(string clientId, string? identity) => Subject switch
    {
        AclSubjectKind.Everyone => true,
        AclSubjectKind.Anonymous => identity is null,
        AclSubjectKind.User => identity is not null && string.Equals(identity, SubjectValue, StringComparison.Ordinal),
        AclSubjectKind.Client => string.Equals(clientId, SubjectValue, StringComparison.Ordinal),
        _ => false,
    };
}
