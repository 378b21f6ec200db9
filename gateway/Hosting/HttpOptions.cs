using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Hosting;

/// <summary>The <c>Http</c> configuration section: health, metrics and the APIs.</summary>
public sealed class HttpOptions
{
    public const string SectionName = "Http";

    /// <summary>HTTP port for /healthz, /readyz, /metrics and the APIs. 0 disables it.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8080;

    /// <summary>HTTPS port (secure WebSocket on /mqtt, and the APIs); used only when <c>Tls:CertificatePath</c> is set. 0 disables it.</summary>
    [Range(0, 65535)]
    public int TlsPort { get; set; } = 8443;

    /// <summary>Path of MQTT over WebSocket on the HTTP port(s); empty disables it.</summary>
    public string WebSocketPath { get; set; } = "/mqtt";

    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";
}
