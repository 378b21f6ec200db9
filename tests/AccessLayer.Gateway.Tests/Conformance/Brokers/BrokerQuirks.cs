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

    /// <summary>
    /// Once QoS 2 deliveries complete, sends more new QoS 2 PUBLISH packets than the client's
    /// Receive Maximum allows while others are unfinished (MQTT-3.3.4-9). Seen with mosquitto
    /// 2.0.11, Receive Maximum 2: PUBREC 1, PUBREC 2, PUBCOMP 1 -> PUBLISH 3 and 4 go out with
    /// 2 unfinished (3 in flight). Strict clients (mqtt.js, libmosquitto) then disconnect with
    /// "receive maximum exceeded"; the holding phase (no PUBREC/PUBCOMP yet) is respected.
    /// </summary>
    Qos2ReceiveMaximumOvershoot = 2,
}
