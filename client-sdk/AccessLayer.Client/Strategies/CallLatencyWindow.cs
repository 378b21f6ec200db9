namespace AccessLayer.Client.Strategies;

/// <summary>
/// What a call on the long link is expected to take, for hedging (docs/sdk.md "Retries and hedging"): the median of
/// the last <see cref="Capacity"/> answered calls plus 4 × their median absolute deviation, and at least 1.5 × the median.
/// Robust where a mean is not: on a lossy path the calls that waited for a TCP retransmission (a second or more) barely
/// move it, so a hedge goes out once a call is slower than the calls that lost nothing, while a second copy can still
/// beat the retransmission; the 1.5 × floor keeps merely jittery calls (whose answer is about to come) from spending the
/// retry budget. Thread-safe.
/// </summary>
internal sealed class CallLatencyWindow
{
    public const int Capacity = 32;

    private readonly Lock _lock = new();
    private readonly TimeSpan[] _samples = new TimeSpan[Capacity];
    private int _count;
    private int _next;

    public void Add(TimeSpan latency)
    {
        lock (_lock)
        {
            _samples[_next] = latency < TimeSpan.Zero ? TimeSpan.Zero : latency;
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
        }
    }

    /// <summary>max(median + 4 × MAD, 1.5 × median) of the window; null before the first sample.</summary>
    public TimeSpan? Expected()
    {
        long[] ticks;
        lock (_lock)
        {
            if (_count == 0)
                return null;
            ticks = new long[_count];
            for (var i = 0; i < _count; i++)
                ticks[i] = _samples[i].Ticks;
        }

        var median = Median(ticks);
        for (var i = 0; i < ticks.Length; i++)
            ticks[i] = Math.Abs(ticks[i] - median);
        var spread = median + (4 * Median(ticks));
        var floor = median + (median / 2);
        return TimeSpan.FromTicks(spread > floor ? spread : floor);
    }

    private static long Median(long[] values)
    {
        Array.Sort(values);
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
