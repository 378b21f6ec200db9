using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mqttjs")]
[Trait("Broker", "gateway")]
public sealed class MqttJsConformance_OnGateway(GatewayBrokerFixture broker, ITestOutputHelper output)
    : MqttJsConformance<GatewayBrokerFixture>(broker, output);
