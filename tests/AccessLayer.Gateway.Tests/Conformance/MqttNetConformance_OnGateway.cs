using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mqttnet")]
[Trait("Broker", "gateway")]
public sealed class MqttNetConformance_OnGateway(GatewayBrokerFixture broker, ITestOutputHelper output)
    : MqttNetConformance<GatewayBrokerFixture>(broker, output);
