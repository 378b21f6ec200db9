using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mqttnet")]
[Trait("Broker", "mosquitto")]
public sealed class MqttNetConformance_OnMosquitto(MosquittoBrokerFixture broker, ITestOutputHelper output)
    : MqttNetConformance<MosquittoBrokerFixture>(broker, output);
