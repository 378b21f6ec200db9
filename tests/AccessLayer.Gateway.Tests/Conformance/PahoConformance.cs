using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>The broker against paho-mqtt 1.6.1 (Debian's python3-paho-mqtt), tests/python/agent.py.</summary>
public abstract class PahoConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ScriptedClientConformance<TFixture>(broker, output)
    where TFixture : BrokerFixture
{
    private protected override ScriptedClientKind Kind => ScriptedClientKind.Paho;

    private protected override bool ResolvesIncomingTopicAliases => false;

    private protected override bool KeepsUserPropertyOrder => true;
}
