using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Protocol.Tests.Mqtt;

/// <summary>One valid packet of every type in both versions, properties populated: the seed for mutation tests.</summary>
internal static class MqttTestCorpus
{
    public static List<byte[]> ValidPackets()
    {
        var packets = new List<byte[]>();
        foreach (var version in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            var v5 = version == MqttProtocolVersion.V500;
            IReadOnlyList<MqttUserProperty> userProperties = v5 ? [new("k", "v")] : [];
            packets.Add(MqttTestCodec.Write(o => MqttConnectWriter.Write(o, new MqttConnectPacket
            {
                ProtocolVersion = version,
                CleanStart = true,
                ClientId = "c1",
                UserName = "u",
                Password = [1, 2],
                KeepAliveSeconds = 30,
                SessionExpiryInterval = v5 ? 10u : 0,
                ReceiveMaximum = v5 ? (ushort)5 : ushort.MaxValue,
                UserProperties = userProperties,
                AuthenticationMethod = v5 ? "m" : null,
                Will = new MqttWillMessage { Topic = "w", Payload = new byte[] { 9 }, QualityOfService = MqttQualityOfService.AtLeastOnce, WillDelayInterval = v5 ? 5u : 0 },
            })));
            packets.Add(MqttTestCodec.Write(o => MqttConnAckWriter.Write(o, version, new MqttConnAckPacket
            {
                SessionPresent = true,
                AssignedClientIdentifier = "a",
                ReceiveMaximum = 10,
                UserProperties = userProperties,
            })));
            var message = MqttPublishDecoderTests.FullMessage();
            packets.Add(MqttTestCodec.Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.ExactlyOnce, true, true, 42, v5 ? (ushort)2 : (ushort)0, v5 ? [5u, 300u] : [])));
            packets.Add(MqttTestCodec.Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtMostOnce, false, false, 0, 0, [])));
            foreach (var type in new[] { MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp })
            {
                packets.Add(MqttTestCodec.Write(o => MqttPubAckWriter.Write(o, version, new MqttPubAckPacket(type, 7, MqttReasonCode.Success, v5 ? "r" : null, userProperties))));
            }

            packets.Add(MqttTestCodec.Write(o => MqttSubscribeWriter.Write(o, version, new MqttSubscribePacket
            {
                PacketId = 8,
                SubscriptionIdentifier = v5 ? 12u : null,
                UserProperties = userProperties,
                Subscriptions = [new("a/+", MqttQualityOfService.AtLeastOnce, v5, v5, v5 ? MqttRetainHandling.DoNotSend : 0), new("#", MqttQualityOfService.ExactlyOnce)],
            })));
            packets.Add(MqttTestCodec.Write(o => MqttSubAckWriter.Write(o, version, new MqttSubAckPacket
            {
                PacketId = 8,
                ReasonCodes = [MqttReasonCode.GrantedQoS1, MqttReasonCode.UnspecifiedError],
                ReasonString = "s",
                UserProperties = userProperties,
            })));
            packets.Add(MqttTestCodec.Write(o => MqttUnsubscribeWriter.Write(o, version, new MqttUnsubscribePacket { PacketId = 9, TopicFilters = ["a/+", "b"], UserProperties = userProperties })));
            packets.Add(MqttTestCodec.Write(o => MqttUnsubAckWriter.Write(o, version, new MqttUnsubAckPacket { PacketId = 9, ReasonCodes = [MqttReasonCode.Success], UserProperties = userProperties })));
            packets.Add(MqttTestCodec.Write(MqttPingWriter.WritePingReq));
            packets.Add(MqttTestCodec.Write(MqttPingWriter.WritePingResp));
            packets.Add(MqttTestCodec.Write(o => MqttDisconnectWriter.Write(o, version, new MqttDisconnectPacket
            {
                ReasonCode = MqttReasonCode.ServerMoved,
                ServerReference = "x",
                ReasonString = "bye",
                UserProperties = userProperties,
            })));
            if (v5)
            {
                packets.Add(MqttTestCodec.Write(o => MqttAuthWriter.Write(o, version, new MqttAuthPacket
                {
                    ReasonCode = MqttReasonCode.ContinueAuthentication,
                    AuthenticationMethod = "m",
                    AuthenticationData = [1],
                })));
            }
        }

        return packets;
    }
}
