using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// What a sweep of disconnected sessions found due: sessions that expired (the gateway removes
/// their routes) and delayed wills to publish now (their delay passed, or their session ended).
/// </summary>
public sealed record SessionExpiryResult(IReadOnlyList<string> ExpiredClientIds, IReadOnlyList<MqttApplicationMessage> DueWills)
{
    public static SessionExpiryResult Empty { get; } = new([], []);
}
