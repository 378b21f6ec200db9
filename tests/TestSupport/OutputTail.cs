using System.Collections.Concurrent;
using System.Diagnostics;

namespace AccessLayer.Tests.Shared;

/// <summary>
/// The last lines a child process wrote (stdout and stderr together), kept for a failure message.
/// Linked into the test projects that start gateway processes (<c>&lt;Compile Include="../TestSupport/OutputTail.cs" /&gt;</c>).
/// </summary>
public sealed class OutputTail
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly int _maxLines;

    private OutputTail(int maxLines) => _maxLines = maxLines;

    /// <summary>Starts reading both redirected streams of <paramref name="process"/>, keeping its last <paramref name="maxLines"/> lines.</summary>
    public static OutputTail Follow(Process process, int maxLines)
    {
        var tail = new OutputTail(maxLines);
        process.OutputDataReceived += (_, e) => tail.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => tail.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tail;
    }

    public override string ToString() => string.Join(Environment.NewLine, _lines);

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        while (_lines.Count > _maxLines && _lines.TryDequeue(out _))
        {
        }
    }
}
