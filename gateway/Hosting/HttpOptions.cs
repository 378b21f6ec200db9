using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Hosting;

/// <summary>The <c>Http</c> configuration section: health, metrics and the APIs.</summary>
public sealed class HttpOptions
{
    public const string SectionName = "Http";

    /// <summary>HTTP port for /healthz, /readyz, /metrics and the APIs. 0 disables it.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8080;

    [Required]
    public string BindAddress { get; set; } = "0.0.0.0";
}
