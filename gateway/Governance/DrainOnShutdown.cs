using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Governance;

/// <summary>
/// SIGTERM drain: the host calls <see cref="StoppingAsync"/> before any hosted service stops,
/// so the listeners still run while clients are moved; the wait is bounded by
/// <c>Drain:ShutdownTimeout</c> and by the host's own shutdown token.
/// </summary>
internal sealed class DrainOnShutdown(DrainCoordinator drain, IOptions<DrainOptions> options, TimeProvider time) : IHostedLifecycleService
{
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.OnShutdown)
        {
            return;
        }

        drain.Start("shutdown");
        try
        {
            await drain.Completion.WaitAsync(options.Value.ShutdownTimeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // Bounded: whoever is left is closed by the listeners stopping.
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
