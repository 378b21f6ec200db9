using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// The <c>Traffic</c> section: the traffic table this node routes MLP calls by (docs/traffic.md). Without
/// <see cref="TableFile"/> no table is loaded and <c>Mlp:Routes</c> routes every call, as before.
/// </summary>
public sealed class TrafficOptions
{
    public const string SectionName = "Traffic";

    /// <summary>The table file (YAML or JSON), loaded at start and watched; empty: no table.</summary>
    public string? TableFile { get; set; }

    /// <summary>The site this node belongs to; required with a table, and every table applied must name it.</summary>
    public string? Site { get; set; }

    /// <summary>The secret every gateway shares: zone cookies and forwards between sites are signed with keys derived from it (at least 16 characters).</summary>
    public string? Secret { get; set; }

    /// <summary>Whether the table file is watched; with <c>false</c> it is read at start and changed by the admin API only.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>How often the file's size, time and link target are looked at.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long the file must stay unchanged after a change before it is read (an editor or a deploy still writing it).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan Debounce { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Earlier versions kept for roll back.</summary>
    [Range(1, 1000)]
    public int History { get; set; } = 10;

    /// <summary>How far apart two gateways' clocks may be for a forward between sites to be accepted (its signature is dated).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ForwardClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many times an idempotent call that found its endpoint unreachable or unavailable (502, 503) is tried on another endpoint of its group, within its deadline.</summary>
    [Range(0, 3)]
    public int Retries { get; set; } = 1;

    /// <summary>Failed calls (5xx, unreachable, timed out) in a row after which an endpoint is ejected.</summary>
    [Range(1, 1000)]
    public int OutlierConsecutiveFailures { get; set; } = 5;

    /// <summary>How long an ejected endpoint gets no calls.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan OutlierEjectionTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The path health checks <c>GET</c> on each backend endpoint of the site (e.g. <c>/healthz</c>); empty: no health checks.</summary>
    public string? HealthCheckPath { get; set; }

    /// <summary>How often every endpoint is checked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a check may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Failed checks in a row after which an endpoint gets no calls (until a check passes).</summary>
    [Range(1, 100)]
    public int HealthCheckFailures { get; set; } = 2;

    public bool IsEnabled => !string.IsNullOrEmpty(TableFile);
}
