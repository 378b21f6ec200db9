namespace AccessLayer.Client.Strategies;

/// <summary>
/// The pace and the budget of fresh connection attempts while a call is owed (docs/sdk.md "Reconnect"): an attempt started while the
/// path was silent has lost its SYN, and the kernel resends it only 1, 3, 7 s after the attempt started; a new socket's first SYN
/// leaves at once. So while a call waits for the link and nothing has answered, a connect opens a fresh attempt every
/// <see cref="Interval"/>: SRTT + 4×RTTVAR (the path's retransmission timeout, so an attempt on a working path has connected before the
/// next would start) within [<see cref="MlpWeakNetworkOptions.ReconnectOwedFreshAttemptInterval"/>, 1 s], 1 s before any sample. At most
/// <see cref="MlpWeakNetworkOptions.ReconnectOwedMaxFreshAttempts"/> per outage, so a phone does not send SYNs without end.
/// </summary>
internal sealed class FreshConnectAttempts(MlpWeakNetworkOptions options, RttEstimator rtt)
{
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(1);
    private int _left = options.ReconnectOwedMaxFreshAttempts;
    private long _taken;

    /// <summary>Fresh attempts are on (a budget per outage above zero).</summary>
    public bool Enabled => options.ReconnectOwedMaxFreshAttempts > 0;

    /// <summary>Fresh attempts are on and this outage's budget is not spent.</summary>
    public bool Available => Enabled && Volatile.Read(ref _left) > 0;

    /// <summary>The most attempts open at once: a fresh one beyond it closes the oldest.</summary>
    public int MaxOpen => options.ReconnectOwedMaxOpenAttempts;

    /// <summary>The time between fresh attempts.</summary>
    public TimeSpan Interval => rtt.Rto(options.ReconnectOwedFreshAttemptInterval, Longest, Longest);

    /// <summary>Fresh attempts opened over the client's life.</summary>
    public long Taken => Interlocked.Read(ref _taken);

    /// <summary>Takes one fresh attempt from this outage's budget; false when it is spent.</summary>
    public bool TryTake()
    {
        while (true)
        {
            var left = Volatile.Read(ref _left);
            if (left <= 0)
                return false;
            if (Interlocked.CompareExchange(ref _left, left - 1, left) == left)
            {
                Interlocked.Increment(ref _taken);
                return true;
            }
        }
    }

    /// <summary>A new outage: the budget is whole again.</summary>
    public void Reset() => Volatile.Write(ref _left, options.ReconnectOwedMaxFreshAttempts);
}
