namespace AccessLayer.Client;

/// <summary>How the SDK rates the path to the gateway right now (docs/sdk.md "Network quality").</summary>
public enum NetworkQuality
{
    /// <summary>No link, and the last attempts to reach the gateway failed.</summary>
    Offline,

    /// <summary>Slow or lossy: long smoothed RTT or many probes and calls without an answer.</summary>
    Weak,

    /// <summary>Neither good nor weak; also the state before the first measurement.</summary>
    Normal,

    /// <summary>Short, steady RTT and nothing lost lately.</summary>
    Good,
}
