using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mqttjs")]
[Trait("Broker", "mosquitto")]
public sealed class MqttJsConformance_OnMosquitto(MosquittoBrokerFixture broker, ITestOutputHelper output)
    : MqttJsConformance<MosquittoBrokerFixture>(broker, output);
