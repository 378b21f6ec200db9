using System.Text;
using AccessLayer.Gateway.Tests.Governance;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Tests.Broker;

/// <summary>
/// <c>$SYS/...</c> is the broker's: a client cannot publish there (5.0: PUBACK/PUBREC 0x87; 3.1.1: acknowledged and
/// dropped, as for an ACL refusal), a retained one is not stored, and a will there refuses the CONNECT — even with an ACL that allows everything.
/// </summary>
public sealed class SysTopicsTests
{
    [Fact]
    public async Task A_SYS_publish_gets_0x87_on_5_0_reaches_nobody_and_a_retained_one_is_not_stored()
    {
        await using var gateway = await GovernedGateway.StartAsync("--Acl:Rules:0=allow * all #", "--Acl:Rules:1=allow * all $SYS/#");
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher");
        await watcher.SubscribeAsync("$SYS/#", MqttQualityOfService.AtLeastOnce);

        await using var spoofer = await gateway.ConnectClientAsync();
        await spoofer.ConnectAsync("spoofer");
        await spoofer.PublishAsync("$SYS/broker/version", "fake", MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
        var pubAck = (await spoofer.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500);
        Assert.Equal((MqttPacketType.PubAck, MqttReasonCode.NotAuthorized), (pubAck.Type, pubAck.ReasonCode));
        await spoofer.PublishAsync("$SYS/broker/clients/connected", "9999", MqttQualityOfService.ExactlyOnce, packetId: 2);
        var pubRec = (await spoofer.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500);
        Assert.Equal((MqttPacketType.PubRec, MqttReasonCode.NotAuthorized), (pubRec.Type, pubRec.ReasonCode));
        await spoofer.PublishAsync("$SYS", "root", MqttQualityOfService.AtMostOnce, retain: true);

        // A look-alike outside $SYS is an ordinary topic.
        await spoofer.PublishAsync("$SYSTEM/x", "fine", MqttQualityOfService.AtLeastOnce, packetId: 3);
        Assert.Equal(MqttReasonCode.NoMatchingSubscribers, (await spoofer.ReceiveAsync()).AsPubAck(MqttProtocolVersion.V500).ReasonCode);

        Assert.Null(await watcher.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Empty(await gateway.Broker.Retained.MatchAsync("$SYS/#"));
        Assert.Empty(await gateway.Broker.Retained.MatchAsync("$SYS"));
    }

    [Fact]
    public async Task A_SYS_publish_is_acknowledged_but_dropped_on_3_1_1()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        await using var watcher = await gateway.ConnectClientAsync();
        await watcher.ConnectAsync("watcher", MqttProtocolVersion.V311);
        await watcher.SubscribeAsync("$SYS/#", MqttQualityOfService.AtLeastOnce);

        await using var spoofer = await gateway.ConnectClientAsync();
        await spoofer.ConnectAsync("spoofer", MqttProtocolVersion.V311);
        await spoofer.PublishAsync("$SYS/broker/uptime", "0 seconds", MqttQualityOfService.AtLeastOnce, packetId: 1, retain: true);
        var pubAck = await spoofer.ReceiveAsync();
        Assert.Equal(MqttPacketType.PubAck, pubAck.Type);
        Assert.Equal(new byte[] { 0, 1 }, pubAck.Body);

        Assert.Null(await watcher.TryReceiveAsync(TimeSpan.FromMilliseconds(300)));
        Assert.Empty(await gateway.Broker.Retained.MatchAsync("$SYS/#"));
        Assert.Equal(1, await gateway.MetricAsync("accesslayer_mqtt_messages_dropped_total", ("reason", "not_authorized")));
    }

    [Fact]
    public async Task A_will_on_a_SYS_topic_refuses_the_CONNECT()
    {
        await using var gateway = await GovernedGateway.StartAsync();
        var will = new MqttWillMessage { Topic = "$SYS/broker/version", Payload = Encoding.UTF8.GetBytes("fake") };
        await using (var v5 = await gateway.ConnectClientAsync())
        {
            Assert.Equal(MqttReasonCode.NotAuthorized, (await v5.ConnectAsync("spoofer", will: will)).ReasonCode);
        }

        await using var v311 = await gateway.ConnectClientAsync();
        Assert.Equal(MqttConnectReturnCode.NotAuthorized, (await v311.ConnectAsync("spoofer", MqttProtocolVersion.V311, will: will)).ReturnCode);
    }
}
