namespace AccessLayer.Gateway.Tests.Conformance.Clients;

/// <summary>A will message set in CONNECT.</summary>
internal sealed record WillOptions(string Topic, string Payload, int Qos = 0, bool Retain = false)
{
    /// <summary>MQTT 5.0 Will Delay Interval, seconds.</summary>
    public long? WillDelay { get; init; }
}

/// <summary>CONNECT as the harness asks a client library to send it.</summary>
internal sealed record ConnectOptions(string ClientId, int Version)
{
    /// <summary>3.1.1 Clean Session / 5.0 Clean Start.</summary>
    public bool Clean { get; init; } = true;

    public int Keepalive { get; init; } = 30;

    public long? SessionExpiry { get; init; }

    public int? ReceiveMaximum { get; init; }

    public long? MaximumPacketSize { get; init; }

    public int? TopicAliasMaximum { get; init; }

    public WillOptions? Will { get; init; }
}

/// <summary>MQTT 5.0 subscription options and identifier.</summary>
internal sealed record SubscribeOptions
{
    public bool NoLocal { get; init; }

    public bool RetainAsPublished { get; init; }

    public int RetainHandling { get; init; }

    public int? SubscriptionId { get; init; }
}

/// <summary>MQTT 5.0 PUBLISH properties to send.</summary>
internal sealed record PublishProperties
{
    public long? MessageExpiry { get; init; }

    public int? TopicAlias { get; init; }

    public string? ResponseTopic { get; init; }

    public string? CorrelationData { get; init; }

    public string? ContentType { get; init; }

    public int? PayloadFormat { get; init; }

    public IReadOnlyList<string[]>? UserProps { get; init; }
}

/// <summary>What the server said in CONNACK.</summary>
internal sealed record ConnAck(int ReasonCode, bool SessionPresent, int? TopicAliasMaximum, int? ReceiveMaximum, long? MaximumPacketSize);

/// <summary>A command a client library refused or the broker failed.</summary>
internal sealed class ScriptedClientException(string message) : Exception(message)
{
    public int? ReasonCode { get; init; }
}
