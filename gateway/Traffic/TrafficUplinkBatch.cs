using System.Buffers;
using System.Text.Json;
using AccessLayer.Gateway.Mqtt;
using AccessLayer.Protocol.Mqtt;

namespace AccessLayer.Gateway.Traffic;

/// <summary>One MQTT PUBLISH an uplink rule took: who sent it (from the connection, after authentication), where the table put it, and a copy of what it carried.</summary>
internal sealed record TrafficUplinkMessage(
    IMqttUplinkPublisher Publisher,
    string ClientId,
    string? UserName,
    string? Uid,
    string Topic,
    ReadOnlyMemory<byte> Payload,
    MqttQualityOfService Qos,
    ushort PacketId,
    bool Dup,
    bool Retain,
    DateTimeOffset ReceivedAt,
    long ReceivedTimestamp,
    string Reason,
    string? GrayRule)
{
    /// <summary>What the message counts against its queue's byte bound.</summary>
    public int Size => Payload.Length + (Topic.Length * 2) + 128;
}

/// <summary>Where a batch goes and what it says about it (docs/traffic.md, "MQTT uplinks": the batch body).</summary>
internal readonly record struct TrafficUplinkBatchInfo(string BatchId, string Rule, string Zone, string Site, string Group, long TableVersion, bool LoadTest);

/// <summary>
/// The body of an uplink batch: one JSON object with the batch's id, rule, zone, site, group, table version and
/// load-test mark, and per message the publisher's identity (client id, user name, uid), topic, QoS, packet id, flags,
/// time received, routing reason and gray rule, and the payload in base64.
/// </summary>
internal static class TrafficUplinkBatch
{
    public const string ContentType = "application/json";

    public static byte[] Write(in TrafficUplinkBatchInfo info, IReadOnlyList<TrafficUplinkMessage> messages)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (messages.Count * 256));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("batchId", info.BatchId);
            json.WriteString("rule", info.Rule);
            json.WriteString("zone", info.Zone);
            json.WriteString("site", info.Site);
            json.WriteString("group", info.Group);
            json.WriteNumber("tableVersion", info.TableVersion);
            json.WriteBoolean("loadTest", info.LoadTest);
            json.WriteStartArray("messages");
            foreach (var message in messages)
            {
                json.WriteStartObject();
                json.WriteString("clientId", message.ClientId);
                WriteOptional(json, "username", message.UserName);
                WriteOptional(json, "uid", message.Uid);
                json.WriteString("topic", message.Topic);
                json.WriteNumber("qos", (int)message.Qos);
                if (message.Qos != MqttQualityOfService.AtMostOnce)
                {
                    json.WriteNumber("packetId", message.PacketId);
                }

                json.WriteBoolean("dup", message.Dup);
                json.WriteBoolean("retain", message.Retain);
                json.WriteString("receivedAt", message.ReceivedAt);
                json.WriteString("reason", message.Reason);
                WriteOptional(json, "grayRule", message.GrayRule);
                json.WriteBase64String("payload", message.Payload.Span);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteOptional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
