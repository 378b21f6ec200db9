namespace AccessLayer.Client.Strategies;

/// <summary>
/// Capped exponential backoff with full jitter: attempt n (from 0) waits a uniformly random time in
/// [0, min(cap, base × 2^n)], so clients dropped together by an outage spread their returns over the
/// whole window instead of arriving in waves. A server's <c>retry_after_ms</c> is a floor, plus up to
/// 20% jitter (docs/protocol.md §12). After an attempt that got no answer at all (the path is down: nothing reached a
/// server) the cap is <see cref="MlpWeakNetworkOptions.ReconnectUnansweredMaxDelay"/>, so the next attempt follows the
/// path's return closely, and while a call also waits for the link <see cref="MlpWeakNetworkOptions.ReconnectOwedMaxDelay"/>. Not thread-safe: one reconnect loop owns it.
/// </summary>
internal sealed class ReconnectBackoff(MlpWeakNetworkOptions options)
{
    private int _attempt;

    /// <summary>Failed attempts since the last success.</summary>
    public int Attempt => _attempt;

    /// <summary>The upper end of attempt <paramref name="attempt"/>'s window.</summary>
    public TimeSpan Ceiling(int attempt)
    {
        var ceiling = options.ReconnectBaseDelay * Math.Pow(2, Math.Min(attempt, 30));
        return ceiling < options.ReconnectMaxDelay ? ceiling : options.ReconnectMaxDelay;
    }

    /// <summary>
    /// The wait before the next attempt; counts the attempt. <paramref name="unanswered"/>: the last attempt timed out without any answer;
    /// <paramref name="owed"/>: a call is waiting for the link; <paramref name="owedMaxDelay"/>: a shorter cap than
    /// <see cref="MlpWeakNetworkOptions.ReconnectOwedMaxDelay"/> for that case (the interval of fresh attempts, which the connect itself opens).
    /// </summary>
    public TimeSpan Next(TimeSpan retryAfter = default, bool unanswered = false, bool owed = false, TimeSpan owedMaxDelay = default)
    {
        var ceiling = Ceiling(_attempt);
        if (unanswered && ceiling > options.ReconnectUnansweredMaxDelay)
            ceiling = options.ReconnectUnansweredMaxDelay;
        if (unanswered && owed && ceiling > options.ReconnectOwedMaxDelay)
            ceiling = options.ReconnectOwedMaxDelay;
        if (unanswered && owed && owedMaxDelay > TimeSpan.Zero && ceiling > owedMaxDelay)
            ceiling = owedMaxDelay;
        var delay = ceiling * options.Random.NextDouble();
        _attempt++;
        if (retryAfter > TimeSpan.Zero)
        {
            var floor = retryAfter + retryAfter * (0.2 * options.Random.NextDouble());
            if (floor > delay)
                delay = floor;
        }

        return delay;
    }

    /// <summary>A connection succeeded: the next outage starts from the first step again.</summary>
    public void Reset() => _attempt = 0;
}
