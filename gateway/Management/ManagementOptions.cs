using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Management;

/// <summary>
/// The <c>Management</c> section: the operator's HTTP surface (push, admin API, drain, bans,
/// dictionary reload, <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c>), on its own port and
/// never on the device-facing <c>Http:Port</c>.
/// </summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";

    /// <summary>Management HTTP port; 0 disables the management surface.</summary>
    [Range(0, 65535)]
    public int Port { get; set; } = 8081;

    /// <summary>Address the management listener binds: loopback by default, so nothing outside the host reaches it until an operator says so.</summary>
    [Required]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>Bearer token every management route except the probes and <c>/metrics</c> requires. Unset (and no <see cref="TokenFile"/>): those routes answer 403.</summary>
    public string? Token { get; set; }

    /// <summary>File with accepted bearer tokens, one a line (<c>#</c> comments); read at start. Several lines let a token be rotated.</summary>
    public string? TokenFile { get; set; }
}
