using Microsoft.Extensions.Options;

namespace AccessLayer.Gateway.Security;

/// <summary>
/// Polls the ACL file, the password file and the TLS files every <c>SecurityReload:PollInterval</c>
/// (size, modification time and symlink target, so a Kubernetes secret swap counts) and, once
/// they have stayed unchanged for <c>SecurityReload:Debounce</c> after a change, reloads them
/// (<see cref="SecurityReloader"/>). Driven by the injected <see cref="TimeProvider"/>.
/// </summary>
internal sealed class SecurityFileWatcher(SecurityReloader reloader, IOptions<SecurityReloadOptions> options, TimeProvider time) : BackgroundService
{
    private string[]? _seen;
    private long _changedAt;
    private bool _pending;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Watch)
        {
            return;
        }

        _seen ??= Fingerprint();
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await PollOnceAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One look at the files: returns what a reload did, or null when none was due.</summary>
    public async Task<SecurityReloadResult?> PollOnceAsync()
    {
        var now = time.GetTimestamp();
        var seen = Fingerprint();
        if (_seen is null)
        {
            _seen = seen;
            return null;
        }

        if (!seen.AsSpan().SequenceEqual(_seen))
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
        return await reloader.ReloadAsync("watch").ConfigureAwait(false);
    }

    private string[] Fingerprint()
    {
        var files = new List<string>();
        if (reloader.Acl.FilePath is { } acl)
        {
            files.Add(acl);
        }

        if (reloader.Passwords.Path is { } passwords)
        {
            files.Add(passwords);
        }

        files.AddRange(reloader.Tls.Files);
        var fingerprint = new string[files.Count];
        for (var i = 0; i < files.Count; i++)
        {
            fingerprint[i] = Describe(files[i]);
        }

        return fingerprint;
    }

    private static string Describe(string path)
    {
        try
        {
            var info = new FileInfo(path);
            var target = info.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? info;
            return target.Exists ? $"{target.FullName}|{target.Length}|{target.LastWriteTimeUtc.Ticks}" : "missing";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "unreadable";
        }
    }
}
