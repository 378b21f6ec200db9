using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Security;

/// <summary>The <c>SecurityReload</c> section: watching the ACL file, the password file and the TLS files for changes.</summary>
public sealed class SecurityReloadOptions
{
    public const string SectionName = "SecurityReload";

    /// <summary>Whether the files are watched; with <c>false</c> only the admin call reloads them.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>How often the files' size, time and link target are looked at.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the files must stay unchanged after a change before they are read (an editor or a deploy writing several files).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(1);
}
