using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>The broker against mqtt.js 5.x on node, tests/js/agent.mjs.</summary>
public abstract class MqttJsConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ScriptedClientConformance<TFixture>(broker, output)
    where TFixture : BrokerFixture
{
    private protected override ScriptedClientKind Kind => ScriptedClientKind.MqttJs;

    private protected override bool ResolvesIncomingTopicAliases => true;

    // mqtt.js holds user properties in an object: values of one key stay in order, keys are grouped.
    private protected override bool KeepsUserPropertyOrder => false;
}
