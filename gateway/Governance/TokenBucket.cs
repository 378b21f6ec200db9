namespace AccessLayer.Gateway.Governance;

/// <summary>
/// A token bucket on <see cref="TimeProvider"/> timestamps: refills at <c>rate</c> per second up
/// to <c>capacity</c>. A mutable struct kept in a field of its single owner (one connection's
/// reader), so it needs neither a lock nor an allocation.
/// </summary>
internal struct TokenBucket
{
    private readonly double _rate;
    private readonly double _capacity;
    private double _tokens;
    private long _last;

    public TokenBucket(double ratePerSecond, double capacity, long now)
    {
        _rate = ratePerSecond;
        _capacity = capacity;
        _tokens = capacity;
        _last = now;
    }

    public readonly bool IsEnabled => _rate > 0;

    /// <summary>Takes <paramref name="amount"/> tokens if that many are there; false (nothing taken) otherwise.</summary>
    public bool TryTake(double amount, long now, TimeProvider time)
    {
        var elapsed = time.GetElapsedTime(_last, now).TotalSeconds;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_capacity, _tokens + (elapsed * _rate));
            _last = now;
        }

        if (_tokens < amount)
        {
            return false;
        }

        _tokens -= amount;
        return true;
    }
}
