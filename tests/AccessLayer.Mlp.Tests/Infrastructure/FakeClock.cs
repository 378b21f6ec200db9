using Microsoft.Extensions.Time.Testing;

namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>The fake clock of the SDK's weak-network tests: one start, and a step for <see cref="Eventually"/> loops that drive it.</summary>
internal static class FakeClock
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static FakeTimeProvider New() => new(Start);

    /// <summary>Advances <paramref name="time"/> by <paramref name="ms"/> unless <paramref name="done"/>; returns <paramref name="done"/>.</summary>
    public static bool Step(FakeTimeProvider time, bool done, int ms = 50)
    {
        if (!done)
            time.Advance(TimeSpan.FromMilliseconds(ms));
        return done;
    }
}
