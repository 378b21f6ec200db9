using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "paho")]
[Trait("Broker", "gateway")]
public sealed class PahoConformance_OnGateway(GatewayBrokerFixture broker, ITestOutputHelper output)
    : PahoConformance<GatewayBrokerFixture>(broker, output);
