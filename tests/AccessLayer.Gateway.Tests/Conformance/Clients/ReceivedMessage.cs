using System.Text.Json;

namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>MQTT 5.0 properties a client reported on a received PUBLISH (empty for 3.1.1).</summary>
internal sealed record MessageProperties
{
    public static readonly MessageProperties None = new();

    public long? MessageExpiry { get; init; }

    public int? TopicAlias { get; init; }

    public string? ResponseTopic { get; init; }

    public string? CorrelationData { get; init; }

    public string? ContentType { get; init; }

    public int? PayloadFormat { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> UserProperties { get; init; } = [];

    public IReadOnlyList<int> SubscriptionIds { get; init; } = [];
}

/// <summary>An application message as one real client received it.</summary>
internal sealed record ReceivedMessage(string Topic, string Payload, int Qos, bool Retain, MessageProperties Properties)
{
    public override string ToString() => $"{Topic} '{Payload}' q{Qos}{(Retain ? " retained" : "")}";

    /// <summary>Parses a scripted client's {"ev":"message"} event (tests/js, tests/python).</summary>
    public static ReceivedMessage FromAgentEvent(JsonElement e)
    {
        var properties = MessageProperties.None;
        if (e.TryGetProperty("props", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            properties = new MessageProperties
            {
                MessageExpiry = Long(p, "messageExpiry"),
                TopicAlias = Int(p, "topicAlias"),
                ResponseTopic = Str(p, "responseTopic"),
                CorrelationData = Str(p, "correlationData"),
                ContentType = Str(p, "contentType"),
                PayloadFormat = Int(p, "payloadFormat"),
                UserProperties = p.TryGetProperty("userProps", out var up)
                    ? [.. up.EnumerateArray().Select(kv => KeyValuePair.Create(kv[0].GetString()!, kv[1].GetString()!))]
                    : [],
                SubscriptionIds = p.TryGetProperty("subscriptionIds", out var ids) ? [.. ids.EnumerateArray().Select(i => i.GetInt32())] : [],
            };
        }
        return new ReceivedMessage(
            e.GetProperty("topic").GetString()!,
            e.GetProperty("payload").GetString() ?? "",
            e.GetProperty("qos").GetInt32(),
            e.GetProperty("retain").GetBoolean(),
            properties);
    }

    /// <summary>Parses one line of <c>mosquitto_sub -F %j</c> (JSON with MQTT 5.0 properties).</summary>
    public static ReceivedMessage FromMosquittoJson(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var e = doc.RootElement;
        var properties = MessageProperties.None;
        if (e.TryGetProperty("properties", out var p))
        {
            properties = new MessageProperties
            {
                MessageExpiry = Long(p, "message-expiry-interval"),
                TopicAlias = Int(p, "topic-alias"),
                ResponseTopic = Str(p, "response-topic"),
                CorrelationData = Str(p, "correlation-data"),
                ContentType = Str(p, "content-type"),
                PayloadFormat = Int(p, "payload-format-indicator"),
                // An object with repeated keys when a key repeats; enumeration keeps them all.
                UserProperties = p.TryGetProperty("user-properties", out var up)
                    ? [.. up.EnumerateObject().Select(kv => KeyValuePair.Create(kv.Name, kv.Value.GetString()!))]
                    : [],
                SubscriptionIds = p.TryGetProperty("subscription-identifier", out var id)
                    ? id.ValueKind == JsonValueKind.Array ? [.. id.EnumerateArray().Select(i => i.GetInt32())] : [id.GetInt32()]
                    : [],
            };
        }
        return new ReceivedMessage(
            e.GetProperty("topic").GetString()!,
            e.GetProperty("payload").ValueKind == JsonValueKind.Null ? "" : e.GetProperty("payload").GetString()!,
            e.GetProperty("qos").GetInt32(),
            e.GetProperty("retain").GetInt32() != 0,
            properties);
    }

    private static string? Str(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static int? Int(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? v.GetInt32() : null;

    private static long? Long(JsonElement o, string name) => o.TryGetProperty(name, out var v) ? v.GetInt64() : null;
}
