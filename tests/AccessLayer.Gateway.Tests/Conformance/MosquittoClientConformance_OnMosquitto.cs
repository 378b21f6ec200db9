using AccessLayer.Gateway.Tests.Conformance.Brokers;

namespace AccessLayer.Gateway.Tests.Conformance;

[Trait("Client", "mosquitto-cli")]
[Trait("Broker", "mosquitto")]
public sealed class MosquittoClientConformance_OnMosquitto(MosquittoBrokerFixture broker, ITestOutputHelper output)
    : MosquittoClientConformance<MosquittoBrokerFixture>(broker, output);
