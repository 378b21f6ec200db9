using System.Diagnostics;
using System.Text;

namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>How to start a <see cref="ChildProcess"/>.</summary>
internal sealed record ChildProcessOptions
{
    /// <summary>The process is killed when this much time has passed, whatever the test does.</summary>
    public TimeSpan Lifetime { get; init; } = TimeSpan.FromSeconds(10);

    public bool RedirectStandardInput { get; init; }

    /// <summary>
    /// Kill the process when the test host goes away without disposing it (crash, killed
    /// run): a watchdog sharing its stdin kills it at end of file. For processes that would
    /// otherwise outlive us (brokers, reconnecting clients); they get /dev/null as stdin.
    /// </summary>
    public bool DieWithTestHost { get; init; }

    public string? WorkingDirectory { get; init; }

    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Oldest transcript lines are dropped past this (long-lived broker processes).</summary>
    public int MaxTranscriptLines { get; init; } = 20_000;

    /// <summary>Called on the reader thread for every stdout line, before waiters are woken.</summary>
    public Action<string>? OnStdoutLine { get; init; }

    /// <summary>Called on the reader thread once stdout has ended (the process is gone).</summary>
    public Action? OnStdoutClosed { get; init; }
}

/// <summary>
/// A child process whose stdout lines a test can wait for, with a hard lifetime: no test may
/// hang on a peer, and nothing is left running after the test (dispose kills the tree).
/// </summary>
internal sealed class ChildProcess : IPeer
{
    private readonly Process _process;
    private readonly ChildProcessOptions _options;
    private readonly EventLog<string> _stdout = new();
    private readonly Transcript _transcript;
    private readonly Timer _lifetime;
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _stdinGate = new(1, 1);
    private int _killedForLifetime;

    private ChildProcess(string name, Process process, ChildProcessOptions options)
    {
        Name = name;
        _process = process;
        _options = options;
        _transcript = new Transcript(options.MaxTranscriptLines);
        _lifetime = new Timer(_ => OnLifetimeOver(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Total transcript lines written so far; a mark for <see cref="TranscriptSince"/>.</summary>
    public long TranscriptMark => _transcript.Mark;

    public IReadOnlyList<string> StdoutLines => _stdout.Snapshot();

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, ChildProcessOptions? options = null)
    {
        options ??= new ChildProcessOptions();
        if (options.DieWithTestHost)
        {
            // The watchdog reads our stdin (through fd 3: sh gives background jobs /dev/null as
            // stdin); the program is exec'ed, so it keeps the shell's pid ($$), which Kill() and
            // the watchdog both target.
            arguments = ["-c", "exec 3<&0; (cat <&3 >/dev/null; kill -9 $$) >/dev/null 2>&1 & exec \"$@\" </dev/null 3<&-", "sh", fileName, .. arguments];
            fileName = "/bin/sh";
            options = options with { RedirectStandardInput = true };
        }
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = options.RedirectStandardInput,
            UseShellExecute = false,
            CreateNoWindow = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        if (options.RedirectStandardInput) info.StandardInputEncoding = new UTF8Encoding(false);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var (key, value) in options.Environment) info.Environment[key] = value;

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, options);
        process.OutputDataReceived += (_, e) => child.OnStdout(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnStderr(e.Data);
        child.AppendTranscript($"$ {fileName} {string.Join(' ', info.ArgumentList.Select(Quote))}");
        if (!process.Start()) throw new InvalidOperationException($"{name}: could not start {fileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        child._lifetime.Change(options.Lifetime, Timeout.InfiniteTimeSpan);
        return child;
    }

    /// <summary>Waits for the first stdout line at or after <paramref name="from"/> that matches.</summary>
    public async Task<(int Index, string Line)> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, int from = 0, string? what = null)
    {
        var lines = await _stdout.WaitUntilAsync(
            all => FindFrom(all, match, from) >= 0,
            timeout,
            () => $"{Name}: no stdout line {what ?? "matching"}{Environment.NewLine}{TranscriptText()}");
        var index = FindFrom(lines, match, from);
        return (index, lines[index]);
    }

    /// <summary>Waits until the stdout lines satisfy a condition (counts, sequences).</summary>
    public Task<IReadOnlyList<string>> WaitForLinesAsync(Func<IReadOnlyList<string>, bool> done, TimeSpan timeout, string what) =>
        _stdout.WaitUntilAsync(done, timeout, () => $"{Name}: {what}{Environment.NewLine}{TranscriptText()}");

    public async Task WriteLineAsync(string line)
    {
        await _stdinGate.WaitAsync();
        try
        {
            AppendTranscript($"in: {line}");
            await _process.StandardInput.WriteLineAsync(line);
            await _process.StandardInput.FlushAsync();
        }
        finally
        {
            _stdinGate.Release();
        }
    }

    public void CloseStandardInput() => _process.StandardInput.Close();

    /// <summary>Waits for the process to exit (and its output to drain); kills it on timeout.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{Name}: did not exit within {timeout.TotalSeconds:0.#} s{Environment.NewLine}{TranscriptText()}");
        }
        try
        {
            await _stderrClosed.Task.WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (TimeoutException)
        {
            // A grandchild may hold stderr open; the transcript is complete enough.
        }
        if (Volatile.Read(ref _killedForLifetime) != 0)
            throw new TimeoutException($"{Name}: killed after its {_options.Lifetime.TotalSeconds:0.#} s lifetime{Environment.NewLine}{TranscriptText()}");
        return _process.ExitCode;
    }

    /// <summary>Ends the process at once (SIGKILL): for a client, an abrupt network death.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                AppendTranscript("-- killed by the test");
                // The peers do not fork (stdbuf execs its program); a tree walk would cost a /proc scan.
                _process.Kill();

                // Reaped before returning: HasExited is true at once for whoever asks next.
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }
    }

    /// <summary>Blocks until the process is gone (after <see cref="Kill"/>: a few milliseconds); false on timeout.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public IReadOnlyList<string> TranscriptSince(long mark, int maxLines = 400) => _transcript.Since(mark, maxLines);

    public IReadOnlyList<string> Transcript() => _transcript.Since(0);

    public string TranscriptText(int maxLines = 60) => _transcript.Tail(Name, maxLines);

    public async ValueTask DisposeAsync()
    {
        await _lifetime.DisposeAsync();
        Kill();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            AppendTranscript("-- did not exit within 5 s of SIGKILL");
        }
        _process.Dispose();
        _stdinGate.Dispose();
    }

    private void OnLifetimeOver()
    {
        if (_process.HasExited) return;
        Volatile.Write(ref _killedForLifetime, 1);
        AppendTranscript($"-- lifetime of {_options.Lifetime.TotalSeconds:0.#} s over: killing");
        Kill();
    }

    private void OnStdout(string? line)
    {
        if (line is null)
        {
            _options.OnStdoutClosed?.Invoke();
            _stdout.Complete();
            return;
        }
        AppendTranscript($"out: {line}");
        _options.OnStdoutLine?.Invoke(line);
        _stdout.Add(line);
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            _stderrClosed.TrySetResult();
            return;
        }
        AppendTranscript($"err: {line}");
    }

    private void AppendTranscript(string line) => _transcript.Add(line);

    private static int FindFrom(IReadOnlyList<string> lines, Func<string, bool> match, int from)
    {
        for (var i = from; i < lines.Count; i++)
        {
            if (match(lines[i])) return i;
        }
        return -1;
    }

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsLetterOrDigit(c) || "-_./:=%@".Contains(c)) ? argument : $"'{argument}'";
}
