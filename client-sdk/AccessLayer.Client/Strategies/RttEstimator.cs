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
    private TimeSpan _minimum;
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

    /// <summary>
    /// The smallest sample so far (the HELLO/WELCOME round trip at first): the path's round trip without a retransmission in it, which
    /// SRTT is not once a sample waited for one; zero before the first sample.
    /// </summary>
    public TimeSpan Minimum
    {
        get
        {
            lock (_lock)
                return _minimum;
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
                _minimum = rtt;
                _hasSample = true;
                return;
            }

            if (rtt < _minimum)
                _minimum = rtt;

            // RTTVAR first, from the SRTT before this sample (RFC 6298 §2.3).
            _variation = TimeSpan.FromTicks((3 * _variation.Ticks + Math.Abs(_smoothed.Ticks - rtt.Ticks)) / 4);
            _smoothed = TimeSpan.FromTicks((7 * _smoothed.Ticks + rtt.Ticks) / 8);
        }
    }

    /// <summary>TCP's smallest retransmission timeout above SRTT (Linux floors RTTVAR's share at 200 ms).</summary>
    public static readonly TimeSpan TcpMinRttVariation = TimeSpan.FromMilliseconds(200);

    /// <summary>The most TCP retransmissions a PONG is given time for (<see cref="RetransmissionsToAllow"/>).</summary>
    public const int MaxRetransmissionsAllowed = 3;

    /// <summary>
    /// How long a PONG may take before the link counts as dead, at least <paramref name="floor"/>, at most <paramref name="ceiling"/>;
    /// the ceiling itself before any sample. 3×SRTT + 4×RTTVAR: time for one TCP retransmission of the PING or the PONG. With
    /// <paramref name="retransmissions"/> n above one (a path that loses segments), also time for n backed-off retransmissions:
    /// SRTT + (2^n − 1) × TCP's RTO, the RTO estimated as SRTT + max(4×RTTVAR, 200 ms).
    /// </summary>
    public TimeSpan DeadLinkTimeout(TimeSpan floor, TimeSpan ceiling, int retransmissions = 1)
    {
        lock (_lock)
        {
            if (!_hasSample)
                return ceiling;
            var timeout = 3 * _smoothed + 4 * _variation;
            if (retransmissions > 1)
            {
                var variation = 4 * _variation;
                var rto = _smoothed + (variation > TcpMinRttVariation ? variation : TcpMinRttVariation);
                var lossy = _smoothed + (((1 << Math.Min(retransmissions, 16)) - 1) * rto);
                timeout = lossy > timeout ? lossy : timeout;
            }

            return timeout < floor ? floor : timeout > ceiling ? ceiling : timeout;
        }
    }

    /// <summary>
    /// How many TCP retransmissions a PONG is given time for when a share <paramref name="retransmittedShare"/> of the round trips waits
    /// for one: 1 on a path that does not lose segments (0), else the fewest n ≥ 2 for which share^(n+1) ≤ 1 % (a probe then
    /// drops a live link about once in a hundred or less, counting each wait as independent, which overstates the loss: a second loss
    /// is of the same segment only with the path's per-packet loss), at most <see cref="MaxRetransmissionsAllowed"/>.
    /// </summary>
    public static int RetransmissionsToAllow(double retransmittedShare)
    {
        if (!(retransmittedShare > 0))
            return 1;
        for (var n = 2; n < MaxRetransmissionsAllowed; n++)
        {
            if (Math.Pow(retransmittedShare, n + 1) <= 0.01)
                return n;
        }

        return MaxRetransmissionsAllowed;
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
