namespace AccessLayer.Sessions;

/// <summary>Message Expiry Interval arithmetic shared by the offline queue and the retained store.</summary>
internal static class MessageExpiry
{
    /// <summary>
    /// The interval left of <paramref name="interval"/> seconds started at <paramref name="since"/>:
    /// null when the message never expires, 0 when it has expired, else at least 1 (rounded up so
    /// a message is never reported expired early). An interval of 0 is expired at once.
    /// </summary>
    public static uint? Remaining(uint? interval, DateTimeOffset since, DateTimeOffset now)
    {
        if (interval is not uint seconds)
        {
            return null;
        }

        TimeSpan elapsed = now - since;
        if (elapsed < TimeSpan.Zero)
        {
            elapsed = TimeSpan.Zero;
        }

        double left = seconds - elapsed.TotalSeconds;
        return left <= 0 ? 0u : (uint)Math.Ceiling(left);
    }

    public static bool IsExpired(uint? interval, DateTimeOffset since, DateTimeOffset now) => Remaining(interval, since, now) == 0;
}
