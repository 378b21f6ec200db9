namespace AccessLayer.Gateway.Tests.Conformance.Brokers;

/// <summary>
/// Known, documented ways a reference broker departs from the MQTT 5.0 spec. Tests follow
/// the spec; where a reference broker has a quirk they check what it does instead and say so.
/// Our gateway has none.
/// </summary>
[Flags]
public enum BrokerQuirks
{
    None = 0,

    /// <summary>
    /// Session takeover closes the old connection without the DISCONNECT with reason code
    /// 0x8E (Session taken over) of MQTT 5.0 §3.1.4 / §4.13 (mosquitto 2.0.11).
    /// </summary>
    NoTakeoverDisconnect = 1,
}
