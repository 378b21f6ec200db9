using System.ComponentModel.DataAnnotations;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// The <c>Memory</c> configuration section: giving memory back to the OS after a connect (or
/// disconnect) storm. A storm leaves the GC with a large gen0 budget and free regions it decommits
/// only slowly; one compacting, decommitting collection once the count has settled returns them.
/// </summary>
public sealed class MemoryOptions
{
    public const string SectionName = "Memory";

    /// <summary>Run one aggressive (compacting, decommitting) full GC when the connection count has moved a lot and then settled.</summary>
    public bool TrimAfterConnectStorm { get; set; } = true;

    /// <summary>How far the connection count must have moved (up or down) since the last trim.</summary>
    [Range(1, 10_000_000)]
    public int TrimMinConnectionChange { get; set; } = 1000;

    /// <summary>Seconds the count must stay (within 1 %, at least 16 connections) before trimming: the storm is over.</summary>
    [Range(1, 3600)]
    public int TrimQuietSeconds { get; set; } = 5;

    /// <summary>Fewest seconds between two trims (each is a blocking full GC).</summary>
    [Range(1, 86_400)]
    public int TrimMinIntervalSeconds { get; set; } = 300;
}
