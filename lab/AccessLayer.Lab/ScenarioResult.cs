namespace AccessLayer.Lab;

/// <summary>What one client did in one scenario (times in ms, null when there was nothing to measure).</summary>
internal sealed record ClientResult
{
    public required string Client { get; init; }
    public int Calls { get; init; }
    public int Succeeded { get; init; }
    public double? P50Ms { get; init; }
    public double? P99Ms { get; init; }
    public double? MaxMs { get; init; }
    public int DuplicateSideEffects { get; init; }
    public int PushesAccepted { get; init; }
    public int PushesLost { get; init; }
    public int PushesDuplicated { get; init; }
    public long BytesSent { get; init; }
    public long Heartbeats { get; init; }
    public long Connects { get; init; }
    public int FallbackCalls { get; init; }
    /// <summary>Longest time from a blackout's (or crash's) start to the client dropping the link.</summary>
    public double? DetectMs { get; init; }
    /// <summary>Longest time, after the path (or gateway) came back, until a call issued during the outage ended (answered or failed).</summary>
    public double? LateMs { get; init; }
    /// <summary>Time from the path's return (or the handover) to the first answer of a call issued after it.</summary>
    public double? RecoverMs { get; init; }
    /// <summary>Calls issued during a blackout or crash, and how many of them were answered.</summary>
    public int OutageCalls { get; init; }
    public int OutageAnswered { get; init; }
    /// <summary>Of the outage's calls, those whose deadline outlives the outage, and how many of them were answered within 5 s of the path's return.</summary>
    public int OutageAliveCalls { get; init; }
    public int OutageAliveAnsweredIn5s { get; init; }
    /// <summary>Of the outage's calls whose deadline ended during it, how many ended (answered or failed) by their deadline (+0.5 s), not later.</summary>
    public int OutageExpiredCalls { get; init; }
    public int OutageExpiredOnTime { get; init; }
    /// <summary>Longest time from the first call issued into a blackout to the client dropping the link (the link owed an answer from then on).</summary>
    public double? DetectAfterSendMs { get; init; }
    public double HeartbeatIntervalS { get; init; }
    /// <summary>The heartbeat interval over the run: "seconds into the run:interval s" at every change.</summary>
    public string HeartbeatSteps { get; init; } = "";
    public double SuccessRate => Calls == 0 ? 0 : (double)Succeeded / Calls;
}

internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }
    public required string Description { get; init; }
    /// <summary>Why no figures may be printed (the gateway died, nothing was sent); null for a sound run.</summary>
    public string? Broken { get; init; }
    public double DurationS { get; init; }
    public List<string> Namespaces { get; init; } = [];
    public List<ClientResult> Clients { get; init; } = [];
}
