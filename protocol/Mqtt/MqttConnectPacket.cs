namespace AccessLayer.Protocol.Mqtt;

/// <summary>CONNECT (spec 3.1). Properties after <see cref="Will"/> are 5.0 only and keep their spec defaults otherwise.</summary>
public sealed class MqttConnectPacket
{
    public MqttProtocolVersion ProtocolVersion { get; init; } = MqttProtocolVersion.V311;

    /// <summary>Clean Start (5.0) / Clean Session (3.1.1).</summary>
    public bool CleanStart { get; init; }

    public ushort KeepAliveSeconds { get; init; }

    /// <summary>May be empty: the server assigns one (5.0) or, on 3.1.1, only with a clean session.</summary>
    public string ClientId { get; init; } = "";

    public string? UserName { get; init; }

    public byte[]? Password { get; init; }

    public MqttWillMessage? Will { get; init; }

    public uint SessionExpiryInterval { get; init; }

    /// <summary>65535 when absent (the spec default).</summary>
    public ushort ReceiveMaximum { get; init; } = ushort.MaxValue;

    /// <summary>Null when absent: no limit beyond the protocol's.</summary>
    public uint? MaximumPacketSize { get; init; }

    public ushort TopicAliasMaximum { get; init; }

    public bool RequestResponseInformation { get; init; }

    /// <summary>True when absent (the spec default).</summary>
    public bool RequestProblemInformation { get; init; } = true;

    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    public string? AuthenticationMethod { get; init; }

    public byte[]? AuthenticationData { get; init; }
}
