namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>
/// Real elapsed time, for the few checks about a peer's own clock (message expiry, will
/// delay, session expiry): the broker is another process, so a fake TimeProvider cannot
/// move its time. Every such wait is at most a few seconds and its test is Category=Slow.
/// </summary>
internal static class Wall
{
    public static Task PassAsync(TimeSpan span) => Task.Delay(span, TimeProvider.System);

    public static long Now() => TimeProvider.System.GetTimestamp();

    public static TimeSpan Since(long timestamp) => TimeProvider.System.GetElapsedTime(timestamp);
}
