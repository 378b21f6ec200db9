using AccessLayer.Gateway.Metrics;

namespace AccessLayer.Gateway.Hosting;

/// <summary>
/// Runs a background pass once a period until the host stops. A pass that throws is logged and
/// counted (<c>gateway.loop.failures</c>, tag <c>loop</c>) and the next tick runs again: an exception
/// leaving a <see cref="BackgroundService"/> would end the loop for good and, by .NET's default, stop
/// the host, so one bad connection or store hiccup would take keep alive and expiry down with it.
/// </summary>
internal static class PeriodicLoop
{
    public static async Task RunAsync(string name, TimeSpan period, TimeProvider time, Func<ValueTask> pass, GatewayMetrics metrics, ILogger logger, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await pass().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    LoopLog.PassFailed(logger, ex, name);
                    metrics.LoopFailed(name);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
