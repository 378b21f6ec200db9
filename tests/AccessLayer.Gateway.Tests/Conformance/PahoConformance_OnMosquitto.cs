using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "paho")]
[Trait("Broker", "mosquitto")]
public sealed class PahoConformance_OnMosquitto(MosquittoBrokerFixture broker, ITestOutputHelper output)
    : PahoConformance<MosquittoBrokerFixture>(broker, output);
