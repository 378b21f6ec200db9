namespace AccessLayer.Gateway.Transport;

/// <summary>The listener names used in configuration (<c>Limits:MaxConnectionsPerListener:&lt;name&gt;</c>), metrics and the admin API.</summary>
internal static class ListenerNames
{
    public const string MqttTcp = "tcp";
    public const string MqttTls = "tls";
    public const string WebSocket = "ws";
    public const string SecureWebSocket = "wss";
    public const string Mlp = "mlp";
    public const string MlpTls = "mlp-tls";
    public const string MlpWebSocket = "mlp-ws";
    public const string MlpSecureWebSocket = "mlp-wss";
}
