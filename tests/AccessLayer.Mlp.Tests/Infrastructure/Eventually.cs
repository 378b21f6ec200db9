namespace AccessLayer.Mlp.Tests.Infrastructure;

/// <summary>Polls a condition that another thread makes true (real sockets), bounded; never used for timing assertions.</summary>
internal static class Eventually
{
    public static Task TrueAsync(Func<bool> condition, string because, int timeoutMs = 10_000) =>
        TrueAsync(condition, () => because, timeoutMs);

    /// <summary>As above, the message built only when the condition failed (to show the state at the end).</summary>
    public static async Task TrueAsync(Func<bool> condition, Func<string> because, int timeoutMs = 10_000)
    {
        for (var waited = 0; waited < timeoutMs; waited += 10)
        {
            if (condition())
                return;
            await Task.Delay(10);
        }

        Assert.True(condition(), because());
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, string because, int timeoutMs = 10_000)
    {
        for (var waited = 0; waited < timeoutMs; waited += 10)
        {
            if (await condition())
                return;
            await Task.Delay(10);
        }

        Assert.True(await condition(), because);
    }
}
