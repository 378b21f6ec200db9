using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mosquitto-cli")]
[Trait("Broker", "gateway")]
public sealed class MosquittoClientConformance_OnGateway(GatewayBrokerFixture broker, ITestOutputHelper output)
    : MosquittoClientConformance<GatewayBrokerFixture>(broker, output);
