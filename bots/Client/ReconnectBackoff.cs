namespace AccessLayer.Bots.Client;

/// <summary>
/// Delay before each reconnect attempt of a lost connection: doubling from <see cref="First"/>, capped at
/// <see cref="Max"/>, with "equal jitter" (half fixed, half random) so the clients of a failed node do not
/// come back in lockstep.
/// </summary>
public sealed record ReconnectBackoff(TimeSpan First, TimeSpan Max)
{
    public static readonly ReconnectBackoff Default = new(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));

    /// <param name="attempt">0 for the first attempt after the loss.</param>
    /// <param name="random">Uniform in [0, 1).</param>
    public TimeSpan Delay(int attempt, double random)
    {
        var ceiling = First.Ticks * Math.Pow(2, Math.Clamp(attempt, 0, 30));
        var capped = Math.Min(ceiling, Max.Ticks);
        return TimeSpan.FromTicks((long)(capped / 2 + (capped / 2 * Math.Clamp(random, 0, 1))));
    }
}
