using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Dashboard;

/// <summary>The <c>Dashboard</c> configuration section: how often the node samples itself for its dashboard and how much it keeps.</summary>
public sealed class DashboardOptions
{
    public const string SectionName = "Dashboard";

    /// <summary>Time between two samples (one chart point); rates are per second over it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How far back samples are kept (in memory, per node): <see cref="History"/> / <see cref="SampleInterval"/> samples.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "06:00:00")]
    public TimeSpan History { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Samples kept: at least 2, at most 36,000 (6 hours of seconds).</summary>
    public int Capacity => (int)Math.Clamp(History.Ticks / Math.Max(1, SampleInterval.Ticks), 2, 36_000);
}
