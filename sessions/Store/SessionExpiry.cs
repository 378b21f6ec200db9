namespace AccessLayer.Sessions.Store;

/// <summary>Session Expiry Interval values with a meaning of their own (MQTT 5.0 3.1.2.11.2).</summary>
public static class SessionExpiry
{
    /// <summary>The session ends when the connection closes (MQTT 3.1.1 Clean Session 1).</summary>
    public const uint AtDisconnect = 0;

    /// <summary>The session never expires (MQTT 3.1.1 Clean Session 0).</summary>
    public const uint Never = uint.MaxValue;
}
