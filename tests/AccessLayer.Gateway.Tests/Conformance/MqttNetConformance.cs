using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>The broker against MQTTnet 5 (NuGet MQTTnet), in the test process (Clients/MqttNetHost.cs).</summary>
public abstract class MqttNetConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ScriptedClientConformance<TFixture>(broker, output)
    where TFixture : BrokerFixture
{
    private protected override ScriptedClientKind Kind => ScriptedClientKind.MqttNet;

    // MQTTnet 5.2 keeps no inbound alias table: a PUBLISH that carries only an alias reaches the
    // application with an empty topic, so this client never offers a Topic Alias Maximum.
    private protected override bool ResolvesIncomingTopicAliases => false;

    private protected override bool KeepsUserPropertyOrder => true;
}
