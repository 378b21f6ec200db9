using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>The broker against paho-mqtt 1.6.1 (Debian's python3-paho-mqtt), tests/python/agent.py.</summary>
[Trait("Client", "paho")]
public abstract class PahoConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ScriptedClientConformance<TFixture>(broker, output)
    where TFixture : BrokerFixture
{
    private protected override ScriptedClientKind Kind => ScriptedClientKind.Paho;

    private protected override bool ResolvesIncomingTopicAliases => false;

    private protected override bool KeepsUserPropertyOrder => true;
}

[Trait("Broker", "mosquitto")]
public sealed class PahoConformance_OnMosquitto(MosquittoBrokerFixture broker, ITestOutputHelper output)
    : PahoConformance<MosquittoBrokerFixture>(broker, output);

[Trait("Broker", "gateway")]
public sealed class PahoConformance_OnGateway(GatewayBrokerFixture broker, ITestOutputHelper output)
    : PahoConformance<GatewayBrokerFixture>(broker, output);
