using AccessLayer.Gateway.Tests.Conformance.Brokers;
using AccessLayer.Gateway.Tests.Conformance.Clients;

namespace AccessLayer.Gateway.Tests.Conformance;

/// <summary>The broker against MQTTnet 5 (NuGet MQTTnet), in the test process (Clients/MqttNetHost.cs).</summary>
public abstract class MqttNetConformance<TFixture>(TFixture broker, ITestOutputHelper output)
    : ScriptedClientConformance<TFixture>(broker, output)
    where TFixture : BrokerFixture
{
    private protected override ScriptedClientKind Kind => ScriptedClientKind.MqttNet;

    // MQTTnet 5.2 sends a Topic Alias Maximum when asked (WithTopicAliasMaximum) but keeps no
    // inbound alias table: a PUBLISH that carries only an alias reaches the application with an
    // empty topic (seen against both brokers), where MQTT 5.0 §3.3.2.3.4 has the receiver map the
    // alias back to the topic. A client-side gap, so the shared alias test does not offer MQTTnet
    // an alias maximum.
    private protected override bool ResolvesIncomingTopicAliases => false;

    private protected override bool KeepsUserPropertyOrder => true;

    // The reason codes below are the ones MQTTnet hands its application (MqttClientPublishResult,
    // MqttClientUnsubscribeResult, the server's DISCONNECT); the other libraries' agents do not
    // report them, so these tests are MQTTnet's own.

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Publish_acknowledgement_says_no_matching_subscribers_only_while_there_are_none(int qos)
    {
        var topic = Topic("nomatch");
        var pub = await Connected("pub", 5);

        // MQTT 5.0 §3.4.2.1 / §3.5.2.1: a server that knows no one matches MAY answer 0x10 No
        // matching subscribers instead of 0x00. The gateway always does; mosquitto 2.0.11 does for
        // QoS 1 and answers a QoS 2 PUBLISH with PUBREC 0x00 (also allowed).
        var none = await pub.PublishAsync(topic, "nobody", qos);
        Output.WriteLine($"{Broker.Name} acknowledged a QoS {qos} PUBLISH without subscribers with 0x{none:X2}");
        Assert.Contains(none, new int?[] { 0x00, 0x10 });
        var sub = await Subscriber("sub", 5, topic, qos);
        Assert.Equal(0x00, await pub.PublishAsync(topic, "end", qos));

        Assert.Equal(["end"], (await sub.WaitForPayloadAsync("end")).Select(m => m.Payload));
    }

    [Fact]
    public async Task Unsubscribe_acknowledgement_says_whether_a_subscription_existed()
    {
        var topic = Topic("unsub");
        var sub = await Subscriber("sub", 5, topic, 1);

        Assert.Equal([0x00], await sub.UnsubscribeAsync(topic));
        // §3.11.3: 0x11 No subscription existed.
        Assert.Equal([0x11], await sub.UnsubscribeAsync(topic));
        Assert.Equal([0x11], await sub.UnsubscribeAsync(Topic("never")));
    }

    [Fact]
    public async Task Topic_alias_over_the_server_maximum_is_answered_with_disconnect_0x94()
    {
        var pub = Client("pub");
        var connack = await pub.ConnectAsync(new ConnectOptions(ClientId("pub"), 5));
        Assert.InRange(connack.TopicAliasMaximum ?? 0, 1, ushort.MaxValue - 1);

        // MQTTnet does not check an alias against the server's maximum: the server must
        // (MQTT-3.3.2-9 with §4.13: DISCONNECT 0x94 Topic Alias invalid, then close).
        await pub.PublishAsync(Topic("alias"), "over", 0, properties: new PublishProperties { TopicAlias = connack.TopicAliasMaximum!.Value + 1 });

        Assert.Equal(0x94, await pub.WaitForServerDisconnectAsync());
        await pub.WaitForClosedAsync();
    }

    [Fact]
    public async Task Topic_alias_never_set_is_answered_with_disconnect_0x82()
    {
        var pub = await Connected("pub", 5);

        // An empty topic with an alias the server has no topic for (MQTT 5.0 §3.3.4: Protocol Error 0x82).
        await pub.PublishAsync("", "unknown", 0, properties: new PublishProperties { TopicAlias = 1 });

        Assert.Equal(0x82, await pub.WaitForServerDisconnectAsync());
        await pub.WaitForClosedAsync();
    }
}
