namespace AccessLayer.Client.Strategies;

/// <summary>
/// Smoothed round trip time and its variation from PING/PONG, HELLO/WELCOME and call samples, as TCP computes them
/// (RFC 6298 §2: alpha 1/8, beta 1/4; the first sample sets SRTT = R and RTTVAR = R/2). Thread-safe.
/// </summary>
internal sealed class RttEstimator
{
    private readonly Lock _lock = new();
    private TimeSpan _smoothed;
    private TimeSpan _variation;
    private bool _hasSample;

    public bool HasSample
    {
        get
        {
            lock (_lock)
                return _hasSample;
        }
    }

    /// <summary>SRTT; zero before the first sample.</summary>
    public TimeSpan Smoothed
    {
        get
        {
            lock (_lock)
                return _smoothed;
        }
    }

    /// <summary>RTTVAR; zero before the first sample.</summary>
    public TimeSpan Variation
    {
        get
        {
            lock (_lock)
                return _variation;
        }
    }

    public void AddSample(TimeSpan rtt)
    {
        if (rtt < TimeSpan.Zero)
            rtt = TimeSpan.Zero;
        lock (_lock)
        {
            if (!_hasSample)
            {
                _smoothed = rtt;
                _variation = rtt / 2;
                _hasSample = true;
                return;
            }

            // RTTVAR first, from the SRTT before this sample (RFC 6298 §2.3).
            _variation = TimeSpan.FromTicks((3 * _variation.Ticks + Math.Abs(_smoothed.Ticks - rtt.Ticks)) / 4);
            _smoothed = TimeSpan.FromTicks((7 * _smoothed.Ticks + rtt.Ticks) / 8);
        }
    }

    /// <summary>
    /// How long a PONG may take before the link counts as dead: 3×SRTT + 4×RTTVAR, at least
    /// <paramref name="floor"/>, at most <paramref name="ceiling"/>; the ceiling itself before any sample.
    /// </summary>
    public TimeSpan DeadLinkTimeout(TimeSpan floor, TimeSpan ceiling)
    {
        lock (_lock)
        {
            if (!_hasSample)
                return ceiling;
            var timeout = 3 * _smoothed + 4 * _variation;
            return timeout < floor ? floor : timeout > ceiling ? ceiling : timeout;
        }
    }

    /// <summary>
    /// The retransmission-style timeout (RFC 6298 §2): SRTT + 4×RTTVAR within [<paramref name="floor"/>, <paramref name="ceiling"/>];
    /// <paramref name="initial"/> (also clamped) before any sample.
    /// </summary>
    public TimeSpan Rto(TimeSpan floor, TimeSpan ceiling, TimeSpan initial)
    {
        lock (_lock)
        {
            var rto = _hasSample ? _smoothed + 4 * _variation : initial;
            return rto < floor ? floor : rto > ceiling ? ceiling : rto;
        }
    }
}
