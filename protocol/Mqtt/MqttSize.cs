namespace AccessLayer.Protocol.Mqtt;

/// <summary>The size pass every writer runs before it asks for a span: exact byte counts of MQTT fields.</summary>
internal static class MqttSize
{
    public static int String(string value) => 2 + MqttUtf8.GetByteCount(value);

    public static int Binary(int length)
    {
        if (length > ushort.MaxValue)
        {
            throw new ArgumentException($"Binary data holds at most 65535 bytes, got {length}.", nameof(length));
        }

        return 2 + length;
    }

    public static int StringProperty(string? value) => value is null ? 0 : 1 + String(value);

    public static int BinaryProperty(byte[]? value) => value is null ? 0 : 1 + Binary(value.Length);

    public static int UserProperties(IReadOnlyList<MqttUserProperty> properties)
    {
        var size = 0;
        for (var i = 0; i < properties.Count; i++)
        {
            size += 1 + String(properties[i].Name) + String(properties[i].Value);
        }

        return size;
    }

    /// <summary>A property block on the wire: its length as a variable byte integer, then the properties.</summary>
    public static int PropertyBlock(int propertiesLength) => MqttVariableByteInteger.GetSize(propertiesLength) + propertiesLength;

    /// <summary>A whole packet: fixed header byte, remaining-length integer, body.</summary>
    public static int Packet(int remainingLength)
    {
        if (remainingLength > MqttVariableByteInteger.MaxValue)
        {
            throw new ArgumentException($"Packet body of {remainingLength} bytes exceeds the MQTT maximum of 268435455.", nameof(remainingLength));
        }

        return 1 + MqttVariableByteInteger.GetSize(remainingLength) + remainingLength;
    }
}
