using System.Buffers;
using System.Text;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Fuzz.Targets;

/// <summary>Valid MQTT 3.1.1 and 5.0 byte streams, written by the protocol's own writers, each behind its mode byte.</summary>
internal static class MqttCorpus
{
    public static IReadOnlyList<byte[]> Build()
    {
        var corpus = new List<byte[]>();
        foreach (var version in new[] { MqttProtocolVersion.V311, MqttProtocolVersion.V500 })
        {
            var v5 = version == MqttProtocolVersion.V500;
            var connects = Connects(version).ToList();
            var uplinks = Uplinks(version).ToList();
            var downlinks = Downlinks(version).ToList();

            // Handshake streams: CONNECT then a session's worth of packets; single CONNECTs.
            foreach (var connect in connects)
            {
                corpus.Add(Stream(MqttFuzzTarget.ModeHandshake, [connect]));
                corpus.Add(Stream(MqttFuzzTarget.ModeHandshake, [connect, .. uplinks]));
            }

            // Connected streams: each packet alone, and all of them in a row.
            var connected = v5 ? MqttFuzzTarget.ModeServer500 : MqttFuzzTarget.ModeServer311;
            corpus.AddRange(uplinks.Select(p => Stream(connected, [p])));
            corpus.Add(Stream(connected, uplinks));
            var client = v5 ? MqttFuzzTarget.ModeClient500 : MqttFuzzTarget.ModeClient311;
            corpus.AddRange(downlinks.Select(p => Stream(client, [p])));
            corpus.Add(Stream(client, downlinks));
        }

        return corpus;
    }

    private static byte[] Stream(byte mode, IEnumerable<byte[]> packets)
    {
        var stream = new List<byte> { mode };
        foreach (var packet in packets)
        {
            stream.AddRange(packet);
        }

        return [.. stream];
    }

    private static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    private static IEnumerable<byte[]> Connects(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        yield return Write(o => MqttConnectWriter.Write(o, new MqttConnectPacket { ProtocolVersion = version, ClientId = "c1", CleanStart = true, KeepAliveSeconds = 30 }));
        yield return Write(o => MqttConnectWriter.Write(o, new MqttConnectPacket
        {
            ProtocolVersion = version,
            ClientId = "device-0042",
            UserName = "user",
            Password = Encoding.UTF8.GetBytes("secret"),
            KeepAliveSeconds = 60,
            SessionExpiryInterval = v5 ? 3600u : 0,
            ReceiveMaximum = v5 ? (ushort)20 : ushort.MaxValue,
            MaximumPacketSize = v5 ? 65536u : null,
            TopicAliasMaximum = v5 ? (ushort)10 : (ushort)0,
            RequestResponseInformation = v5,
            UserProperties = v5 ? [new("k", "v"), new("region", "eu")] : [],
            Will = new MqttWillMessage
            {
                Topic = "devices/0042/status",
                Payload = Encoding.UTF8.GetBytes("offline"),
                QualityOfService = MqttQualityOfService.AtLeastOnce,
                Retain = true,
                WillDelayInterval = v5 ? 5u : 0,
                PayloadFormatIndicator = v5 ? (byte)1 : (byte)0,
                MessageExpiryInterval = v5 ? 60u : null,
                ContentType = v5 ? "text/plain" : null,
                ResponseTopic = v5 ? "replies/0042" : null,
                CorrelationData = v5 ? new byte[] { 1, 2, 3 } : default,
                UserProperties = v5 ? [new("w", "1")] : [],
            },
        }));
        if (v5)
        {
            yield return Write(o => MqttConnectWriter.Write(o, new MqttConnectPacket
            {
                ProtocolVersion = version,
                ClientId = "",
                AuthenticationMethod = "SCRAM-SHA-1",
                AuthenticationData = [9, 8, 7],
            }));
        }
    }

    private static IEnumerable<byte[]> Uplinks(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        var message = new MqttApplicationMessage
        {
            Topic = "sensors/a/temperature",
            Payload = Encoding.UTF8.GetBytes("{\"t\":21.5}"),
            PayloadFormatIndicator = v5 ? (byte)1 : (byte)0,
            MessageExpiryInterval = v5 ? 30u : null,
            ContentType = v5 ? "application/json" : null,
            ResponseTopic = v5 ? "replies/a" : null,
            CorrelationData = v5 ? new byte[] { 0xCA, 0xFE } : default,
            UserProperties = v5 ? [new("trace", "abc"), new("trace", "def")] : [],
        };
        yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtMostOnce, false, false, 0, 0, []));
        yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtLeastOnce, true, false, 7, 0, []));
        yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.ExactlyOnce, false, true, 8, 0, []));
        if (v5)
        {
            yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtLeastOnce, false, false, 9, 3, []));
            yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtMostOnce, false, false, 0, 3, [], omitTopicName: true));
        }

        foreach (var type in new[] { MqttPacketType.PubAck, MqttPacketType.PubRec, MqttPacketType.PubRel, MqttPacketType.PubComp })
        {
            yield return Write(o => MqttPubAckWriter.Write(o, version, new MqttPubAckPacket(type, 7, v5 ? MqttReasonCode.NoMatchingSubscribers : MqttReasonCode.Success, v5 ? "why" : null, v5 ? [new("a", "b")] : null)));
        }

        yield return Write(o => MqttSubscribeWriter.Write(o, version, new MqttSubscribePacket
        {
            PacketId = 10,
            SubscriptionIdentifier = v5 ? 42u : null,
            UserProperties = v5 ? [new("s", "1")] : [],
            Subscriptions =
            [
                new("sensors/+/temperature", MqttQualityOfService.AtLeastOnce),
                new("alerts/#", MqttQualityOfService.ExactlyOnce, v5, v5, v5 ? MqttRetainHandling.DoNotSend : MqttRetainHandling.SendAtSubscribe),
                new("$share/g1/jobs/+", MqttQualityOfService.AtMostOnce),
            ],
        }));
        yield return Write(o => MqttUnsubscribeWriter.Write(o, version, new MqttUnsubscribePacket
        {
            PacketId = 11,
            UserProperties = v5 ? [new("u", "2")] : [],
            TopicFilters = ["sensors/+/temperature", "$share/g1/jobs/+"],
        }));
        yield return Write(MqttPingWriter.WritePingReq);
        if (v5)
        {
            yield return Write(o => MqttAuthWriter.Write(o, version, new MqttAuthPacket { ReasonCode = MqttReasonCode.ContinueAuthentication, AuthenticationMethod = "SCRAM-SHA-1", AuthenticationData = [1, 2], ReasonString = "more" }));
            yield return Write(o => MqttDisconnectWriter.Write(o, version, new MqttDisconnectPacket { ReasonCode = MqttReasonCode.DisconnectWithWillMessage, ReasonString = "bye", UserProperties = [new("d", "3")] }));
        }
        else
        {
            yield return Write(o => MqttDisconnectWriter.Write(o, version));
        }
    }

    private static IEnumerable<byte[]> Downlinks(MqttProtocolVersion version)
    {
        var v5 = version == MqttProtocolVersion.V500;
        yield return Write(o => MqttConnAckWriter.Write(o, version, new MqttConnAckPacket
        {
            SessionPresent = true,
            ReasonCode = MqttReasonCode.Success,
            SessionExpiryInterval = v5 ? 100u : null,
            ReceiveMaximum = v5 ? (ushort)50 : ushort.MaxValue,
            MaximumQoS = v5 ? MqttQualityOfService.AtLeastOnce : MqttQualityOfService.ExactlyOnce,
            RetainAvailable = !v5,
            MaximumPacketSize = v5 ? 1048576u : null,
            AssignedClientIdentifier = v5 ? "auto-1" : null,
            TopicAliasMaximum = v5 ? (ushort)16 : (ushort)0,
            ReasonString = v5 ? "ok" : null,
            UserProperties = v5 ? [new("node", "gw-1")] : [],
            WildcardSubscriptionAvailable = !v5,
            ServerKeepAlive = v5 ? (ushort)45 : null,
            ResponseInformation = v5 ? "resp/" : null,
            ServerReference = v5 ? "other:1883" : null,
        }));
        var message = new MqttApplicationMessage { Topic = "sensors/b", Payload = new byte[] { 1, 2, 3, 4 }, ContentType = v5 ? "bin" : null };
        yield return Write(o => MqttPublishWriter.Write(o, version, message, MqttQualityOfService.AtLeastOnce, false, false, 3, 0, v5 ? [1u, 268435455u] : []));
        yield return Write(o => MqttPubAckWriter.Write(o, version, MqttPacketType.PubAck, 3));
        yield return Write(o => MqttSubAckWriter.Write(o, version, new MqttSubAckPacket
        {
            PacketId = 10,
            ReasonCodes = [MqttReasonCode.GrantedQoS1, MqttReasonCode.GrantedQoS2, v5 ? MqttReasonCode.NotAuthorized : MqttReasonCode.UnspecifiedError],
            ReasonString = v5 ? "partly" : null,
        }));
        yield return Write(o => MqttUnsubAckWriter.Write(o, version, new MqttUnsubAckPacket
        {
            PacketId = 11,
            ReasonCodes = v5 ? [MqttReasonCode.Success, MqttReasonCode.NoSubscriptionExisted] : [],
        }));
        yield return Write(MqttPingWriter.WritePingResp);
        if (v5)
        {
            yield return Write(o => MqttDisconnectWriter.Write(o, version, new MqttDisconnectPacket { ReasonCode = MqttReasonCode.ServerShuttingDown, ServerReference = "other:1883" }));
        }
    }
}
