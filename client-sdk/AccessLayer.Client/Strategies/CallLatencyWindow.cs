namespace AccessLayer.Client.Strategies;

/// <summary>
/// The latency of the last <see cref="Capacity"/> first copies of calls answered on the long link, for hedging (docs/sdk.md
/// "Retries and hedging"): its median and the median absolute deviation (the hedge goes out just past the calls that lost
/// nothing: median + 4 × MAD, at least 1.2 × the median) and the share of calls that took more than twice
/// the median and 200 ms more (the calls that waited for a TCP retransmission: the sign that the path needs a larger budget).
/// Order statistics, not a mean and variance: the retransmitted calls (a second or more) would pull a mean past the point
/// where a second copy can still beat them. Thread-safe.
/// </summary>
internal sealed class CallLatencyWindow
{
    public const int Capacity = 64;

    /// <summary>TCP's minimum retransmission timeout (Linux, RFC 6298 allows 1 s): a call that lost a segment is at least this much late.</summary>
    public static readonly TimeSpan MinRetransmission = TimeSpan.FromMilliseconds(200);

    private readonly Lock _lock = new();
    private readonly TimeSpan[] _samples = new TimeSpan[Capacity];
    private readonly bool[] _censored = new bool[Capacity];
    private int _count;
    private int _next;

    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    /// <param name="latency">The first copy's latency.</param>
    /// <param name="censored">
    /// The first copy was still unanswered after <paramref name="latency"/> (its hedge won): a lower bound. It counts for
    /// <see cref="SlowShare"/> (the call was slow) but not for the median and its deviation, which would otherwise rise with the hedge
    /// delay itself (a later hedge, later wins, a later hedge).
    /// </param>
    public void Add(TimeSpan latency, bool censored = false)
    {
        lock (_lock)
        {
            _censored[_next] = censored;
            _samples[_next] = latency < TimeSpan.Zero ? TimeSpan.Zero : latency;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>The latency below which a share <paramref name="q"/> of the window lies (nearest rank); null before the first sample.</summary>
    public TimeSpan? Quantile(double q)
    {
        var sorted = Sorted(includeCensored: false);
        if (sorted.Length == 0)
            return null;
        var rank = (int)Math.Ceiling(Math.Clamp(q, 0, 1) * sorted.Length) - 1;
        return TimeSpan.FromTicks(sorted[Math.Clamp(rank, 0, sorted.Length - 1)]);
    }

    public TimeSpan? Median() => Quantile(0.5);

    /// <summary>The median absolute deviation from the median: the spread of the calls that lost nothing while they are the majority; null before the first sample.</summary>
    public TimeSpan? MedianAbsoluteDeviation()
    {
        var sorted = Sorted(includeCensored: false);
        if (sorted.Length == 0)
            return null;
        var median = sorted[(sorted.Length - 1) / 2];
        for (var i = 0; i < sorted.Length; i++)
            sorted[i] = Math.Abs(sorted[i] - median);
        Array.Sort(sorted);
        return TimeSpan.FromTicks(sorted[(sorted.Length - 1) / 2]);
    }

    /// <summary>
    /// The share of the window that took more than twice its median and at least <see cref="MinRetransmission"/> more (a call that waited
    /// for a TCP retransmission; jitter on a fast path is not one); 0 before the first sample.
    /// </summary>
    public double SlowShare()
    {
        var sorted = Sorted(includeCensored: true);
        if (Median() is not { } answered || sorted.Length == 0)
            return 0;
        var median = answered.Ticks;
        var limit = Math.Max(2 * median, median + MinRetransmission.Ticks);
        var firstSlow = Array.FindIndex(sorted, t => t > limit);
        return firstSlow < 0 ? 0 : (double)(sorted.Length - firstSlow) / sorted.Length;
    }

    private long[] Sorted(bool includeCensored)
    {
        List<long> ticks;
        lock (_lock)
        {
            ticks = new List<long>(_count);
            for (var i = 0; i < _count; i++)
            {
                if (includeCensored || !_censored[i])
                    ticks.Add(_samples[i].Ticks);
            }
        }

        ticks.Sort();
        return [.. ticks];
    }
}
