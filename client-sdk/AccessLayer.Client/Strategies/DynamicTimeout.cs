namespace AccessLayer.Client.Strategies;

/// <summary>
/// Per-call and per-connect waits from what the path measured (docs/sdk.md "Dynamic timeouts"):
/// the network's share is k × (SRTT + 4×RTTVAR) (1 s before any sample, as RFC 6298's initial RTO)
/// plus the payload at the bandwidth assumed for the quality, with k = 1 / 2 / 4 for Good / Normal / Weak
/// (and Offline); a call adds <see cref="MlpWeakNetworkOptions.ServerAllowance"/>, a connect four network
/// shares (TCP, TLS, HELLO/WELCOME) on top of <see cref="MlpWeakNetworkOptions.MinConnectTimeout"/>.
/// The caller's deadline (or the configured connect timeout) is never exceeded.
/// </summary>
internal sealed class DynamicTimeout(MlpWeakNetworkOptions options, RttEstimator rtt, NetworkQualityModel quality)
{
    private static readonly TimeSpan InitialRto = TimeSpan.FromSeconds(1);

    public TimeSpan ForCall(TimeSpan deadline, int payloadBytes)
    {
        if (!options.DynamicTimeouts || deadline == Timeout.InfiniteTimeSpan || deadline <= TimeSpan.Zero)
            return deadline;
        var current = quality.Quality;
        var dynamic = options.ServerAllowance + Multiplier(current) * NetworkShare() + Transfer(payloadBytes, current);
        return dynamic < deadline ? dynamic : deadline;
    }

    public TimeSpan ForConnect(TimeSpan configured)
    {
        if (!options.DynamicTimeouts || !rtt.HasSample)
            return configured;
        var dynamic = options.MinConnectTimeout + 4 * Multiplier(quality.Quality) * NetworkShare();
        return dynamic < configured ? dynamic : configured;
    }

    private TimeSpan NetworkShare() => rtt.HasSample ? rtt.Smoothed + 4 * rtt.Variation : InitialRto;

    private static int Multiplier(NetworkQuality quality) => quality switch
    {
        NetworkQuality.Good => 1,
        NetworkQuality.Normal => 2,
        _ => 4,
    };

    /// <summary>Bytes per second assumed for a payload: 1 MiB/s Good, 256 KiB/s Normal, 32 KiB/s Weak or Offline.</summary>
    internal static long AssumedBandwidth(NetworkQuality quality) => quality switch
    {
        NetworkQuality.Good => 1 << 20,
        NetworkQuality.Normal => 256 << 10,
        _ => 32 << 10,
    };

    private static TimeSpan Transfer(int payloadBytes, NetworkQuality quality) =>
        TimeSpan.FromTicks(Math.Max(0, payloadBytes) * TimeSpan.TicksPerSecond / AssumedBandwidth(quality));
}
