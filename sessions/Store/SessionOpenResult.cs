using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// The outcome of opening a session for a CONNECT.
/// </summary>
/// <param name="Token">The new connection's ownership token; pass it to every later call.</param>
/// <param name="SessionPresent">CONNACK Session Present: an existing session was resumed.</param>
/// <param name="TakenOver">The token of a connection that still held the session; the gateway must close it with DISCONNECT 0x8E (Session taken over), on <paramref name="TakenOverNodeId"/> in a fleet.</param>
/// <param name="TakenOverNodeId">The node that held the previous connection.</param>
/// <param name="WillToPublish">A will the takeover or clean start made due (3.1.4: the previous connection's will when its delay is 0, its session expiry is 0, or Clean Start ends its session); publish it.</param>
/// <param name="OwnedByAnotherIdentity">The session belongs to another identity (<see cref="SessionConnectRequest.Owner"/>) and was left alone: nothing was opened, taken over or cleaned; refuse the CONNECT.</param>
public sealed record SessionOpenResult(
    SessionToken Token,
    bool SessionPresent,
    SessionToken? TakenOver = null,
    string? TakenOverNodeId = null,
    MqttApplicationMessage? WillToPublish = null,
    bool OwnedByAnotherIdentity = false)
{
    /// <summary>No session was opened: the client id is new and the store holds <c>Sessions:MaxSessions</c> already.</summary>
    public static SessionOpenResult SessionLimitReached { get; } = new(default, false) { IsSessionLimitReached = true };

    /// <summary>True for <see cref="SessionLimitReached"/>: refuse the CONNECT (5.0: 0x97 Quota exceeded; 3.1.1: 3 Server unavailable).</summary>
    public bool IsSessionLimitReached { get; private init; }

    /// <summary>The result for a CONNECT refused because another identity owns the session.</summary>
    public static SessionOpenResult Refused(string clientId) => new(new SessionToken(clientId, 0), false, OwnedByAnotherIdentity: true);
}
