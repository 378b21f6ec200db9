namespace AccessLayer.Sessions.Store;

/// <summary>Where an outgoing QoS 1/2 PUBLISH stands (MQTT 5.0 4.3).</summary>
public enum OutgoingState : byte
{
    /// <summary>QoS 1 sent; resend the PUBLISH (DUP) after a reconnect.</summary>
    AwaitingPubAck = 1,

    /// <summary>QoS 2 sent; resend the PUBLISH (DUP) after a reconnect.</summary>
    AwaitingPubRec = 2,

    /// <summary>QoS 2 PUBREC received and PUBREL sent; resend the PUBREL after a reconnect.</summary>
    AwaitingPubComp = 3,
}
