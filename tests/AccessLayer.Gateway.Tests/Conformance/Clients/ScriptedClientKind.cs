namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>A real MQTT client library, driven through a small script.</summary>
internal enum ScriptedClientKind
{
    /// <summary>paho-mqtt 1.6.1 for Debian's python (tests/python/agent.py).</summary>
    Paho,

    /// <summary>mqtt.js 5.x on node (tests/js/agent.mjs).</summary>
    MqttJs,

    /// <summary>MQTTnet 5 (NuGet), in the test process (<see cref="MqttNetHost"/>).</summary>
    MqttNet,
}
