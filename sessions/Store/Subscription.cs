using AccessLayer.Sessions.Routing;

namespace AccessLayer.Sessions.Store;

/// <summary>A subscription as a session persists it: the filter as subscribed (including any <c>$share/{group}/</c> prefix) and its options.</summary>
public sealed record Subscription(string TopicFilter, SubscriptionOptions Options);
