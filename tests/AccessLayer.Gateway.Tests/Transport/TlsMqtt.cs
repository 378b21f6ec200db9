namespace AccessLayer.Gateway.Tests.Transport;

/// <summary>The few MQTT 3.1.1 packets the TLS tests write through an SslStream by hand.</summary>
internal static class TlsMqtt
{
    public static readonly byte[] ConnAckAccepted = [0x20, 0x02, 0x00, 0x00];

    /// <summary>CONNECT, clean session, keep alive 60 s.</summary>
    public static byte[] Connect(string clientId)
    {
        var id = System.Text.Encoding.UTF8.GetBytes(clientId);
        byte[] body = [0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x3C, (byte)(id.Length >> 8), (byte)id.Length, .. id];
        return [0x10, (byte)body.Length, .. body];
    }

    /// <summary>SUBSCRIBE packet id 1, QoS 0.</summary>
    public static byte[] Subscribe(string filter)
    {
        var topic = System.Text.Encoding.UTF8.GetBytes(filter);
        byte[] body = [0x00, 0x01, (byte)(topic.Length >> 8), (byte)topic.Length, .. topic, 0x00];
        return [0x82, (byte)body.Length, .. body];
    }

    public static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await stream.ReadExactlyAsync(buffer, cts.Token);
        return buffer;
    }
}
