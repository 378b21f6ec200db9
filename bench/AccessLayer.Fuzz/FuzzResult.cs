namespace AccessLayer.Fuzz;

/// <summary>What one target's run found: counts by outcome, crashes with what reproduces them, time and memory.</summary>
public sealed class FuzzResult
{
    public required string Target { get; init; }

    public required ulong Seed { get; init; }

    public long Inputs { get; set; }

    /// <summary>Inputs decoded without an error.</summary>
    public long Accepted { get; set; }

    /// <summary>Inputs refused with a documented exception, by type name.</summary>
    public SortedDictionary<string, long> Refused { get; } = new(StringComparer.Ordinal);

    /// <summary>The first crashes, with what reproduces them.</summary>
    public List<FuzzCrash> Crashes { get; } = [];

    /// <summary>Every crash (only the first few are kept in <see cref="Crashes"/>).</summary>
    public long CrashCount { get; set; }

    /// <summary>An input that did not finish within the watchdog's limit (index), if any.</summary>
    public long? HungAt { get; set; }

    public TimeSpan Elapsed { get; set; }

    public long PeakWorkingSet { get; set; }

    public long PeakGcHeap { get; set; }

    public long AllocatedBytes { get; set; }

    public long MaxRetained { get; set; }

    public long RetainedBound { get; set; }

    public bool Passed => CrashCount == 0 && HungAt is null && MaxRetained <= RetainedBound;
}

/// <summary>One crash: everything needed to replay it (<c>--seed S --index I</c>) or to turn it into a test.</summary>
public sealed record FuzzCrash(long Index, string Segments, string InputHex, string Exception);
