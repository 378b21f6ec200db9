using System.Diagnostics;

namespace AccessLayer.Bots.Scenarios;

/// <summary>
/// One worker's loop: runs <c>step</c> at <c>rate</c> per second (start staggered within one interval so
/// workers do not fire in lockstep; late steps catch up), or back to back when the rate is 0, until stopped
/// until <c>take</c> says the shared budget is spent, or until a step returns false.
/// </summary>
internal static class PacedLoop
{
    public static async Task RunAsync(double rate, Func<bool> take, Func<Task<bool>> step, CancellationToken stop)
    {
        try
        {
            if (rate <= 0)
            {
                while (!stop.IsCancellationRequested && take())
                {
                    if (!await step())
                    {
                        return;
                    }
                }

                return;
            }

            var ticksPerStep = Stopwatch.Frequency / rate;
            var start = Stopwatch.GetTimestamp() + (long)(Random.Shared.NextDouble() * ticksPerStep);
            long done = 0;
            while (!stop.IsCancellationRequested)
            {
                var now = Stopwatch.GetTimestamp();
                var due = now < start ? 0 : (long)((now - start) / ticksPerStep) + 1;
                if (done >= due)
                {
                    var next = start + (long)(done * ticksPerStep);
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(0.001, (next - now) / (double)Stopwatch.Frequency)), stop);
                    continue;
                }

                if (!take())
                {
                    return;
                }

                if (!await step())
                {
                    return;
                }

                done++;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run's duration is over.
        }
    }

    /// <summary>A shared budget of <paramref name="limit"/> steps (0 = unlimited).</summary>
    public static Func<bool> Budget(long limit)
    {
        if (limit <= 0)
        {
            return static () => true;
        }

        var left = new StrongBox(limit);
        return () => Interlocked.Decrement(ref left.Value) >= 0;
    }

    private sealed class StrongBox(long value)
    {
        public long Value = value;
    }
}
