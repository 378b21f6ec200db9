namespace AccessLayer.Gateway.Tests.Conformance.Harness;

/// <summary>Timestamped lines, bounded: the oldest are dropped past the limit.</summary>
internal sealed class Transcript(int maxLines)
{
    private readonly object _gate = new();
    private readonly LinkedList<string> _lines = new();
    private long _total;

    /// <summary>Total lines ever written; a mark for <see cref="Since"/>.</summary>
    public long Mark
    {
        get { lock (_gate) { return _total; } }
    }

    public void Add(string line)
    {
        lock (_gate)
        {
            _lines.AddLast($"{TimeProvider.System.GetUtcNow():HH:mm:ss.fff} {line}");
            _total++;
            if (_lines.Count > maxLines) _lines.RemoveFirst();
        }
    }

    public IReadOnlyList<string> Since(long mark, int maxLines = 400)
    {
        lock (_gate)
        {
            var available = (int)Math.Min(_total - mark, _lines.Count);
            return [.. _lines.Skip(_lines.Count - available).TakeLast(maxLines)];
        }
    }

    public string Tail(string name, int maxLines = 60) =>
        $"--- {name} (last {maxLines} lines) ---{Environment.NewLine}{string.Join(Environment.NewLine, Since(0, maxLines))}";
}
