namespace AccessLayer.Client.Strategies;

/// <summary>
/// Rates the path Good / Normal / Weak / Offline from the RTT estimate and a window of recent
/// outcomes (a PONG or a response in time is a success; a missing PONG, a timed-out call or a
/// failed connect is a failure). Raises <see cref="Changed"/> outside its lock when the rating moves.
/// </summary>
internal sealed class NetworkQualityModel
{
    private readonly MlpWeakNetworkOptions _options;
    private readonly RttEstimator _rtt;
    private readonly Lock _lock = new();
    private readonly bool[] _window;
    private int _count;
    private int _next;
    private int _failuresInWindow;
    private int _consecutiveFailures;
    private NetworkQuality _quality = NetworkQuality.Normal;

    public NetworkQualityModel(MlpWeakNetworkOptions options, RttEstimator rtt)
    {
        _options = options;
        _rtt = rtt;
        _window = new bool[options.LossWindow];
    }

    public event Action<NetworkQuality>? Changed;

    public NetworkQuality Quality
    {
        get
        {
            lock (_lock)
                return _quality;
        }
    }

    /// <summary>Failed share of the outcomes in the window (0 when there are none).</summary>
    public double LossRate
    {
        get
        {
            lock (_lock)
                return _count == 0 ? 0 : (double)_failuresInWindow / _count;
        }
    }

    /// <summary>A PONG arrived after <paramref name="rtt"/>.</summary>
    public void OnRttSample(TimeSpan rtt)
    {
        _rtt.AddSample(rtt);
        Record(failed: false);
    }

    /// <summary>A response or WELCOME arrived in time (its RTT sample, when it is one, goes to the estimator directly).</summary>
    public void OnSuccess() => Record(failed: false);

    /// <summary>A PING, call or connect got no answer in time.</summary>
    public void OnFailure() => Record(failed: true);

    private void Record(bool failed)
    {
        NetworkQuality before, after;
        lock (_lock)
        {
            if (_count == _window.Length && _window[_next])
                _failuresInWindow--;
            _window[_next] = failed;
            _next = (_next + 1) % _window.Length;
            _count = Math.Min(_count + 1, _window.Length);
            if (failed)
                _failuresInWindow++;
            _consecutiveFailures = failed ? _consecutiveFailures + 1 : 0;
            before = _quality;
            _quality = after = Classify();
        }

        if (after != before)
            Changed?.Invoke(after);
    }

    private NetworkQuality Classify()
    {
        if (_consecutiveFailures >= _options.OfflineAfterFailures)
            return NetworkQuality.Offline;
        var loss = _count == 0 ? 0 : (double)_failuresInWindow / _count;
        if (loss >= _options.WeakLossRate)
            return NetworkQuality.Weak;
        if (!_rtt.HasSample)
            return NetworkQuality.Normal;
        var srtt = _rtt.Smoothed;
        if (srtt >= _options.WeakRtt)
            return NetworkQuality.Weak;
        return srtt < _options.GoodRtt && _rtt.Variation < _options.GoodRtt / 2 && _failuresInWindow == 0
            ? NetworkQuality.Good
            : NetworkQuality.Normal;
    }
}
