namespace AccessLayer.Client.Strategies;

/// <summary>
/// A token bucket that bounds resends (retries and hedges) to a share of calls (docs/sdk.md "Retries and
/// hedging"): every call deposits <see cref="MlpWeakNetworkOptions.RetryBudgetRatio"/> tokens, every resend
/// withdraws one, the bucket holds at most <see cref="MlpWeakNetworkOptions.RetryBudgetCapacity"/> and starts
/// full. Over n calls at most ratio × n + capacity resends happen, so a failing network or backend never sees
/// a retry storm. Thread-safe.
/// </summary>
internal sealed class RetryBudget(MlpWeakNetworkOptions options)
{
    private readonly Lock _lock = new();
    private double _tokens = options.RetryBudgetCapacity;

    public double Tokens
    {
        get
        {
            lock (_lock)
                return _tokens;
        }
    }

    /// <summary>A call (not a resend) was made.</summary>
    public void OnCall() => OnCall(options.RetryBudgetRatio);

    /// <summary>A call was made on a path whose budget share is <paramref name="ratio"/> (docs/sdk.md: larger on a lossy path, capped).</summary>
    public void OnCall(double ratio)
    {
        lock (_lock)
            _tokens = Math.Min(options.RetryBudgetCapacity, _tokens + ratio);
    }

    /// <summary>Takes a token for one resend; false when the budget is spent.</summary>
    public bool TryWithdraw()
    {
        lock (_lock)
        {
            if (_tokens < 1)
                return false;
            _tokens -= 1;
            return true;
        }
    }
}
