using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Traffic;

/// <summary>
/// Loads the table file at start (a node whose file does not load does not start: it would have nothing to route by)
/// and then, when <c>Traffic:Watch</c>, polls it every <c>Traffic:PollInterval</c> (size, modification time and symlink
/// target, so a Kubernetes ConfigMap swap counts) and applies it once it has stayed unchanged for <c>Traffic:Debounce</c>
/// after a change. A file that does not apply is refused by the store (logged with its line); the table in force stays.
/// Driven by the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class TrafficFileWatcher(TrafficTableStore store, IOptions<TrafficOptions> options, TimeProvider time) : BackgroundService
{
    private string? _seen;
    private long _changedAt;
    private bool _pending;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.IsEnabled)
        {
            return Task.CompletedTask;
        }

        _seen = Fingerprint();
        var result = store.ApplyFile("start");
        if (result.Status == TrafficApplyStatus.Refused)
        {
            throw new InvalidOperationException($"The traffic table {options.Value.TableFile} does not load: {result.Error}");
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Watch)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                PollOnce();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One look at the file: what an apply did, or null when none was due.</summary>
    public TrafficApplyResult? PollOnce()
    {
        var now = time.GetTimestamp();
        var seen = Fingerprint();
        if (!string.Equals(seen, _seen, StringComparison.Ordinal))
        {
            // Still being written, perhaps: wait until it has been quiet for the debounce.
            _seen = seen;
            _changedAt = now;
            _pending = true;
        }

        if (!_pending || time.GetElapsedTime(_changedAt, now) < options.Value.Debounce)
        {
            return null;
        }

        _pending = false;
        return store.ApplyFile("file");
    }

    private string Fingerprint()
    {
        try
        {
            var info = new FileInfo(options.Value.TableFile!);
            var target = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
            return target.Exists ? $"{target.FullName}|{target.Length}|{target.LastWriteTimeUtc.Ticks}" : "missing";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }
}
