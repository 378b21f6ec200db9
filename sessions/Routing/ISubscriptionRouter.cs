namespace AccessLayer.Sessions.Routing;

/// <summary>
/// The route table: topic filters to the client ids subscribed to them. Routes outlive
/// connections (a persistent session keeps its subscriptions while offline); the gateway
/// removes a client's routes when its session ends. Keyed by client id with plain data in and
/// out so a fleet implementation can keep the table in Redis and match from a local replica.
/// </summary>
public interface ISubscriptionRouter
{
    /// <summary>
    /// Adds or replaces the subscription of <paramref name="clientId"/> to <paramref name="topicFilter"/>
    /// (a plain filter or <c>$share/{group}/{filter}</c>, already validated with <see cref="Topics.TopicFilter"/>).
    /// Returns true when the subscription is new (Retain Handling 1 sends retained messages only then).
    /// </summary>
    /// <exception cref="ArgumentException">The filter is not a valid topic filter.</exception>
    ValueTask<bool> SubscribeAsync(string clientId, string topicFilter, SubscriptionOptions options, CancellationToken cancellationToken = default);

    /// <summary>Removes one subscription (a shared one leaves its group); false when it did not exist (UNSUBACK 0x11).</summary>
    ValueTask<bool> UnsubscribeAsync(string clientId, string topicFilter, CancellationToken cancellationToken = default);

    /// <summary>Removes every subscription of a client (its session ended); returns how many.</summary>
    ValueTask<int> RemoveClientAsync(string clientId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Fills <paramref name="result"/> (cleared first) with the deliveries a message published to
    /// <paramref name="topic"/> owes: one per client with merged options and all matching subscription
    /// identifiers, plus one per matching share group for the member chosen round robin. Subscriptions
    /// with No Local are skipped for <paramref name="publisherClientId"/>.
    /// </summary>
    ValueTask MatchAsync(string topic, string? publisherClientId, SubscriberMatches result, CancellationToken cancellationToken = default);
}
