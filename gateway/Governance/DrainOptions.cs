using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Governance;

/// <summary>The <c>Drain</c> section: how a node hands its clients to others before it stops.</summary>
public sealed class DrainOptions
{
    public const string SectionName = "Drain";

    /// <summary>Clients moved away per second, across every protocol.</summary>
    [Range(1, 1_000_000)]
    public int Rate { get; set; } = 500;

    /// <summary>Server Reference sent to MQTT 5.0 clients with DISCONNECT 0x9C (e.g. "mqtt2.example.com:8883"); unset sends 0x9C without one.</summary>
    public string? ServerReference { get; set; }

    /// <summary>Whether SIGTERM (host shutdown) drains before the listeners close.</summary>
    public bool OnShutdown { get; set; } = true;

    /// <summary>Longest a shutdown waits for the drain.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>Whether clients moved by a drain have their wills published (a drain is a planned move, not a failure).</summary>
    public bool PublishWills { get; set; }
}
