using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Retained;

/// <summary>
/// Retained messages by topic (MQTT 5.0 3.3.1.3). Plain data in and out so a fleet can keep them in Redis.
/// </summary>
public interface IRetainedMessageStore
{
    /// <summary>
    /// Stores <paramref name="message"/> as the retained message of its topic, replacing any
    /// previous one; a message with an empty payload deletes it instead.
    /// </summary>
    ValueTask<RetainedUpdate> SetAsync(MqttApplicationMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// The unexpired retained messages whose topics match <paramref name="topicFilter"/> (a plain,
    /// validated filter; wildcards allowed; no <c>$share/</c> prefix: shared subscriptions get no
    /// retained messages). Filters starting with a wildcard skip topics starting with <c>$</c>.
    /// </summary>
    ValueTask<IReadOnlyList<RetainedMessage>> MatchAsync(string topicFilter, CancellationToken cancellationToken = default);

    /// <summary>Deletes retained messages whose expiry passed; returns how many. Call it periodically.</summary>
    ValueTask<int> RemoveExpiredAsync(CancellationToken cancellationToken = default);

    /// <summary>Retained messages held (expired ones included until removed).</summary>
    ValueTask<int> CountAsync(CancellationToken cancellationToken = default);
}
