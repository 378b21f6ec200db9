using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Sessions.Store;

/// <summary>
/// The outcome of a connection's end.
/// </summary>
/// <param name="Applied">False when the token no longer owns the session (it was taken over): nothing changed.</param>
/// <param name="SessionEnded">The session ended with the connection (expiry 0); the gateway removes its routes.</param>
/// <param name="WillToPublish">A will due now (delay 0, or the session ended); publish it.</param>
public readonly record struct SessionDisconnectResult(bool Applied, bool SessionEnded = false, MqttApplicationMessage? WillToPublish = null)
{
    public static SessionDisconnectResult NotApplied => default;
}
