namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// Decides when a connect storm is over and worth one trim: the connection count moved by at least
/// <see cref="MemoryOptions.TrimMinConnectionChange"/> since the last trim, then stayed put for
/// <see cref="MemoryOptions.TrimQuietSeconds"/>, and the last trim is at least
/// <see cref="MemoryOptions.TrimMinIntervalSeconds"/> old. Fed once a second; pure, so tests drive it.
/// </summary>
internal sealed class ConnectStormPolicy(MemoryOptions options)
{
    private int _atLastTrim;
    private int _settledAt = -1;
    private DateTimeOffset _settledSince;
    private DateTimeOffset _lastTrim = DateTimeOffset.MinValue;

    /// <returns>true when the caller should trim now (the policy then counts it as done).</returns>
    public bool Observe(int connections, DateTimeOffset now)
    {
        var tolerance = Math.Max(16, _settledAt / 100);
        if (_settledAt < 0 || Math.Abs(connections - _settledAt) > tolerance)
        {
            // Still moving: restart the quiet period from here.
            _settledAt = connections;
            _settledSince = now;
            return false;
        }

        if (Math.Abs(connections - _atLastTrim) < options.TrimMinConnectionChange
            || now - _settledSince < TimeSpan.FromSeconds(options.TrimQuietSeconds)
            || now - _lastTrim < TimeSpan.FromSeconds(options.TrimMinIntervalSeconds))
        {
            return false;
        }

        _atLastTrim = connections;
        _lastTrim = now;
        return true;
    }
}
